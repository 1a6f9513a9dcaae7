/**
 * Characters that hide or mislead in a name: control and format characters (zero-width spaces
 * and joiners, direction marks, the byte order mark), lone surrogates, and line or paragraph
 * separators.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/** A character that shows: not a space, mark, control or format character, nor a blank letter (U+3164…). */
const VISIBLE = /[^\p{C}\p{Z}\p{M}\u115f\u1160\u2800\u3164\uffa0]/u;

/** Whether `text` holds a character that hides or misleads (HIDDEN). */
export function hasHiddenCharacters(text: string): boolean {
  return HIDDEN.test(text);
}

/** Whether `text` holds at least one character that shows. */
export function hasVisibleCharacters(text: string): boolean {
  return VISIBLE.test(text);
}
