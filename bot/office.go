package bot

import "context"

// officeHandler returns the handler of an office-group command.
func (b *Bot) officeHandler(cmd string) func(context.Context, *update) error {
	return nil
}

// moreAdminHandler returns the handler of the admin commands beyond the
// basic ones (units, invites, deadline, reminders).
func (b *Bot) moreAdminHandler(cmd string) func(context.Context, *update) error {
	return nil
}

// adminConfirmed runs an admin action confirmed by a button.
func (b *Bot) adminConfirmed(ctx context.Context, u *update, action string) error {
	return nil
}
