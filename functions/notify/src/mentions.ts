/**
 * Which `@username`s a message body names: the protocol's one definition
 * (protocol/src/mentions.ts), shared with the web client's highlighting.
 */
export { mentionedUsernames } from '@parley/protocol/mentions';
