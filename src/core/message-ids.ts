/** An inclusive range of message ids. */
export interface MessageIdBlock {
  first: number;
  last: number;
}

/**
 * The ids Kratos allocates for its own UI texts (`text/id.go`, identical at v1.3.1, v25.4.0,
 * v26.2.0 and master): consts counting up from 1010000 … 1080000, 4000000, 4010000, 4040000 …
 * 4070000 and 5000000, each under 10000 ids. A UI that localises by id shows Kratos's text for
 * an id in these blocks. The 1xx and 4xx blocks are taken whole, so the still-free 4020000 and
 * 4030000 count as Kratos's too: they sit in the middle of its numbering.
 */
export const KRATOS_MESSAGE_ID_BLOCKS: readonly MessageIdBlock[] = [
  { first: 1_010_000, last: 1_089_999 },
  { first: 4_000_000, last: 4_079_999 },
  { first: 5_000_000, last: 5_009_999 },
];

/** The block every id in `MESSAGES` (messages.ts) comes from: one Kratos does not allocate. */
export const OUR_MESSAGE_ID_BLOCK: MessageIdBlock = { first: 4_100_000, last: 4_199_999 };

/**
 * The part of our block that is yours: ids for the messages of your own policies
 * (`defineMessage`). kratos-hooks never gives one of its own messages an id in it.
 *
 * ```ts
 * import { CUSTOM_MESSAGE_ID_BLOCK, defineMessage } from "kratos-hooks";
 * const INVITE_REQUIRED = defineMessage({ key: "INVITE_REQUIRED", id: CUSTOM_MESSAGE_ID_BLOCK.first + 1, text: "Sign-up is by invitation only." });
 * ```
 */
export const CUSTOM_MESSAGE_ID_BLOCK: MessageIdBlock = { first: 4_190_000, last: 4_199_999 };

function within(block: MessageIdBlock, id: number): boolean {
  return Number.isInteger(id) && id >= block.first && id <= block.last;
}

/** Whether Kratos uses `id` (or may, inside its numbering) for a text of its own. */
export function isKratosMessageId(id: number): boolean {
  return KRATOS_MESSAGE_ID_BLOCKS.some((block) => within(block, id));
}

/** Whether `id` is an integer in our own block. */
export function isOurMessageId(id: number): boolean {
  return within(OUR_MESSAGE_ID_BLOCK, id);
}

/** Whether `id` is kept for kratos-hooks's own messages: in our block, outside the part that is yours. */
export function isKeptForOurMessages(id: number): boolean {
  return isOurMessageId(id) && !within(CUSTOM_MESSAGE_ID_BLOCK, id);
}

/**
 * What is wrong with `id` as the id of a message of your own, or null when it may be used:
 * a positive safe integer outside Kratos's blocks and outside the ids kratos-hooks keeps for its
 * own messages (`OUR_MESSAGE_ID_BLOCK` except `CUSTOM_MESSAGE_ID_BLOCK`).
 */
export function customMessageIdProblem(id: unknown): string | null {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return `expected a positive integer, found ${String(id)}`;
  if (isKratosMessageId(id))
    return `${id} is in a block Kratos uses for its own texts; use one from ${CUSTOM_MESSAGE_ID_BLOCK.first}–${CUSTOM_MESSAGE_ID_BLOCK.last}`;
  if (isKeptForOurMessages(id)) {
    return `${id} is kept for kratos-hooks's own messages; use one from ${CUSTOM_MESSAGE_ID_BLOCK.first}–${CUSTOM_MESSAGE_ID_BLOCK.last}`;
  }
  return null;
}
