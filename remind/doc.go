// Package remind sends the reminder rounds and the office digests of a
// campaign: the jobs of the minute tick, the catch-up on start, the locks
// and markers that make each reminder go out once across replicas and
// restarts, and the recovery of panics. It knows the domain
// (reportbot/flows) and, for what must reach Telegram, a Notifier; it
// imports no adapter.
//
// What is due when is the campaign's pure schedule (flows/schedule.go),
// asked with the effective deadline at every tick; the caller's cron
// (cmd/reportbot, pinned to the campaign's zone) only provides the minute
// tick, calling Tick for each of Jobs, which skips a job still running. A
// round missed while the bot was down is therefore caught up by the first
// tick after start — Start runs one at once — when it is still meaningful
// (same day, not in the quiet hours; the final digest within a day), and a
// moved deadline moves the plan at the next tick. The last fire of each job
// is kept in the store's settings.
//
// # Exactly once, with several replicas and restarts
//
// A round is guarded by a lock keyed by the job and the round's scheduled
// time (Store.Lock with a random token per run): the replica that gets it
// runs the round, the others skip it. The lock is a lease (4 minutes)
// renewed while the round runs; when the round is complete it is extended
// to 40 days, which marks the round done for every replica. A run that
// stops early (shutdown) releases it, and a run that crashes lets it
// expire, so that the next tick of any replica (or the restarted one)
// resumes the round the same day.
//
// The lock is for efficiency; correctness comes from one marker per
// recipient and round, "remind:<round>:<unit>:<user>". Store.Once cannot
// say "being sent" apart from "sent", so the marker is a Store.Lock used
// as a marker with two states, told apart by their lifetime:
//
//  1. claim: Lock(marker, token, 3 minutes) — only one run can hold it;
//  2. send the reminder (bounded by 2 minutes, the Sender's retries included);
//  3. sent: Lock(marker, token, 40 days) — the same token extends it to a
//     long life. If the send failed, Unlock releases the claim.
//
// A crash between 1 and 2 leaves a claim that expires after 3 minutes, and
// a resumed run sends that reminder: nothing is skipped silently. A crash
// between 2 and 3 (one store round trip after Telegram answered) also
// expires, and that one recipient gets the reminder twice. That is the
// trade chosen: Telegram's sendMessage has no idempotency key, so either
// the marker is taken before the send (a crash can lose a reminder without
// trace) or after it (a crash can repeat one); a repeated reminder is a
// nuisance, a lost one defeats the purpose.
//
// A resuming run treats a marker it cannot take as sent. That is sound
// because a run renews the round lock before each claim once 30 seconds
// have passed, so every claim of a dead run expires before its round lock
// does (30 s + 3 min < 4 min), and a run that stops on purpose releases its
// claims before the round lock (if a release fails, it lets the round lock
// expire instead of releasing it).
//
// # Panics
//
// A panic in a goroutine the scheduler starts (a catch-up run, a tick's
// job, a round's worker, an admin's round) is recovered there: it is
// logged with its stack and counted (Options.OnPanic), and it does not end
// the process. A unit whose reminder panicked counts as failed and the
// round goes on with the others; a round that panicked (in a unit or as a
// whole) is marked in the store's settings and reported to the office
// group, and a later run of that round — a catch-up after a restart,
// another replica — skips it as "panicked" instead of running into the
// same panic again. The office can send the round again with /remind. A
// digest whose posting panicked counts as a failed post (not retried).
package remind
