/** A column header that sorts by its key: a button (keyboard reachable) with aria-sort on the cell. */
export interface SortState<K extends string> {
  key: K;
  descending: boolean;
}

export function SortHeader<K extends string>({ label, sortKey, sort, onSort, class: className }: { label: string; sortKey: K; sort: SortState<K>; onSort: (next: SortState<K>) => void; class?: string }) {
  const active = sort.key === sortKey;
  return (
    <th scope="col" class={className} aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" class="sort" data-sort={sortKey} onClick={() => onSort({ key: sortKey, descending: active ? !sort.descending : sortKey === 'severity' || sortKey === 'worst' })}>
        {label}
        <span aria-hidden="true" class="sort-mark">
          {active ? (sort.descending ? ' ▼' : ' ▲') : ' ↕'}
        </span>
      </button>
    </th>
  );
}
