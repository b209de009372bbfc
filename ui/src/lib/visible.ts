/** Invisible and bidirectional control characters, and how the UI shows them (components/visible-text.tsx). */
export const INVISIBLE_CONTROLS = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

export const CONTROL_NAMES: Record<string, string> = {
  '\u202E': 'RIGHT-TO-LEFT OVERRIDE',
  '\u202D': 'LEFT-TO-RIGHT OVERRIDE',
  '\u202B': 'RIGHT-TO-LEFT EMBEDDING',
  '\u202A': 'LEFT-TO-RIGHT EMBEDDING',
  '\u202C': 'POP DIRECTIONAL FORMATTING',
  '\u2066': 'LEFT-TO-RIGHT ISOLATE',
  '\u2067': 'RIGHT-TO-LEFT ISOLATE',
  '\u2068': 'FIRST STRONG ISOLATE',
  '\u2069': 'POP DIRECTIONAL ISOLATE',
  '\u200B': 'ZERO WIDTH SPACE',
  '\u200C': 'ZERO WIDTH NON-JOINER',
  '\u200D': 'ZERO WIDTH JOINER',
  '\uFEFF': 'ZERO WIDTH NO-BREAK SPACE',
};

/** `U+202E` for a character. */
export function codePointLabel(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
