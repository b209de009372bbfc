/**
 * Text from feeds, registries and backends, shown literally: bidirectional controls (U+202A-202E,
 * U+2066-2069, U+200E/200F, U+061C) and invisible characters (zero-width space, joiners, BOM) are
 * drawn as visible `⟨U+202E⟩` marks instead of acting on the text. An RTL override in an advisory
 * text (`invoice\u202Efdp.exe`) would otherwise make it read as something it is not, and a
 * zero-width joiner would hide that two strings differ. Everything stays a text node.
 */
import type { ComponentChildren } from 'preact';
import { codePointLabel, CONTROL_NAMES, INVISIBLE_CONTROLS } from '../lib/visible';

export function VisibleText({ text }: { text: string }) {
  const parts: ComponentChildren[] = [];
  let last = 0;
  for (const match of text.matchAll(INVISIBLE_CONTROLS)) {
    const at = match.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
    const label = codePointLabel(match[0]);
    parts.push(
      <span class="control-char" title={CONTROL_NAMES[match[0]] ?? label} key={at}>
        ⟨{label}⟩
      </span>,
    );
    last = at + match[0].length;
  }
  if (last === 0) return <>{text}</>;
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}
