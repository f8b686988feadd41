// Package telegramtest is an in-process fake of the Telegram Bot API.
//
// It speaks the real wire protocol — POST /bot<token>/<method> with
// multipart/form-data, application/json or urlencoded bodies, answers of the
// form {"ok":true,"result":...} or {"ok":false,"error_code":N,"description":...,
// "parameters":{...}} with the HTTP status equal to error_code — so the
// go-telegram client (bot.WithServerURL(srv.URL())) and our own getUpdates
// loop run against it unchanged. It imports only the standard library.
//
// A test drives the fake from two sides:
//
//   - as people: SendText, Send, Upload, UploadPhoto, Press, Block, Unblock,
//     MigrateGroup, AddGroup, AddUser, InjectUpdate, InjectUpdateDuplicate;
//     FailNext makes the next call of a method fail with a Bot API error,
//     FaultNext with a network or proxy failure (dropped connection,
//     truncated answer, 502 HTML page, stall, answer lost after the send);
//   - as an observer: Messages, History, LastMessage, WaitMessage, WaitFor,
//     Calls, Subscribe, Commands, Webhook, CallbackQuery, Stats.
//
// # Semantics worth knowing
//
//   - getUpdates: updates whose id is below the offset are dropped forever; a
//     negative offset keeps only the last -offset updates; limit is clamped to
//     1..100 (0 means the default, 100); timeout long-polls and returns as soon as an update arrives. A
//     newer getUpdates call terminates an older one that is still waiting: the
//     older call answers 409 "Conflict: terminated by other getUpdates request;
//     make sure that only one bot instance is running", as Telegram does.
//     While a webhook is set getUpdates answers 409 too.
//   - Webhooks: each update is POSTed as JSON with the
//     X-Telegram-Bot-Api-Secret-Token header; one update at a time per chat,
//     in order, chats in parallel up to max_connections (default 40). Any 2xx
//     answer is success (as documented by Telegram); anything else, a
//     redirect included, is retried with an exponential backoff (50 ms
//     doubling to 1 s, see Options.WebhookRetry) until it succeeds or the
//     webhook is changed. http:// URLs are accepted.
//   - Chats must exist before the bot can send to them (else 400 "chat not
//     found"): a user's private chat exists once the user has sent something
//     (or after AddUser); groups exist after AddGroup or a member's message.
//   - Block: sends (and edits, deletes, chat actions) to that private chat get
//     403 "Forbidden: bot was blocked by the user"; Block and Unblock enqueue a
//     my_chat_member update like Telegram. MigrateGroup makes the old id
//     answer 400 with parameters.migrate_to_chat_id and enqueues the two
//     service messages (migrate_to_chat_id, migrate_from_chat_id).
//   - editMessageText and editMessageReplyMarkup without reply_markup remove
//     the inline keyboard, as on Telegram; Press then fails for its buttons.
//   - parse_mode is recorded but not interpreted: lengths count the raw text.
//   - sendMediaGroup takes 2-10 items: documents only with documents,
//     photos with photos and videos (audio is not modelled). Each item
//     becomes a message with its own caption and a shared media_group_id;
//     the answer is the array of messages. An album of N counts as N sends
//     against Limits (and in Stats), admitted whole or not at all.
//   - Photos are not resized: every PhotoSize of a photo carries the original
//     bytes; only the dimensions differ.
//   - Documents or photos given as an HTTP URL are not fetched (400).
//   - Group privacy mode is not modelled: the bot gets every group message.
//
// Call Close when done (MustStart does it through tb.Cleanup): it ends long
// polls, webhook deliveries and Subscribe streams and waits for them.
package telegramtest
