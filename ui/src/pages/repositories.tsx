import { useMemo, useState } from 'preact/hooks';
import { listRepositories } from '../api/queries';
import type { RepositoryView } from '../api/types';
import { SeverityBadge } from '../components/severity';
import { SortHeader, type SortState } from '../components/sort-header';
import { Empty, Loaded } from '../components/states';
import { formatDate } from '../lib/format';
import { severityRank, SEVERITIES, SEVERITY_COLOUR, totalOf } from '../lib/severity';
import { useTitle } from '../lib/title';
import { useApi } from '../lib/use-api';
import { TableWrap } from '../components/table-wrap';

type Key = 'name' | 'tags' | 'worst' | 'total' | 'lastPush' | (typeof SEVERITIES)[number];

function compare(a: RepositoryView, b: RepositoryView, key: Key): number {
  switch (key) {
    case 'name':
      return a.name.localeCompare(b.name);
    case 'tags':
      return a.tagCount - b.tagCount;
    case 'worst':
      return severityRank(a.worst ?? '') - severityRank(b.worst ?? '') || totalOf(a.counts) - totalOf(b.counts);
    case 'total':
      return totalOf(a.counts) - totalOf(b.counts);
    case 'lastPush':
      return (a.lastPush ?? '').localeCompare(b.lastPush ?? '');
    default:
      return (a.counts[key] ?? 0) - (b.counts[key] ?? 0);
  }
}

export function RepositoriesPage() {
  useTitle('Repositories');
  const repositories = useApi(listRepositories, []);
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<SortState<Key>>({ key: 'worst', descending: true });
  return (
    <section>
      <h1>Repositories</h1>
      <Loaded value={repositories} what="the repositories">
        {(all) => <RepositoryTable all={all} search={search} setSearch={setSearch} sort={sort} setSort={setSort} />}
      </Loaded>
    </section>
  );
}

function RepositoryTable({ all, search, setSearch, sort, setSort }: { all: RepositoryView[]; search: string; setSearch: (s: string) => void; sort: SortState<Key>; setSort: (s: SortState<Key>) => void }) {
  const rows = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const kept = all.filter((r) => needle === '' || r.name.toLowerCase().includes(needle));
    return kept.sort((a, b) => (sort.descending ? -1 : 1) * compare(a, b, sort.key) || a.name.localeCompare(b.name));
  }, [all, search, sort]);
  if (all.length === 0) return <Empty>No repositories yet. Push an image to the watched registry, or ask for a scan with POST /api/v1/scans.</Empty>;
  const header = (label: string, key: Key, className?: string) => <SortHeader label={label} sortKey={key} sort={sort} onSort={setSort} class={className} />;
  return (
    <>
      <div class="toolbar">
        <label for="repo-search">Search repositories</label>
        <input id="repo-search" type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} placeholder="name contains…" />
        <span class="muted" aria-live="polite">
          {rows.length} of {all.length}
        </span>
      </div>
      <TableWrap label="Repositories">
        <table class="data repositories" data-testid="repositories">
          <thead>
            <tr>
              {header('Repository', 'name')}
              {header('Tags', 'tags', 'num')}
              {header('Worst', 'worst')}
              {SEVERITIES.slice(0, 5).map((s) => header(s, s, 'num hide-narrow'))}
              {header('Total', 'total', 'num')}
              {header('Last push', 'lastPush', 'hide-narrow')}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.name} data-repository={r.name}>
                <th scope="row">
                  <a href={`/repositories/${r.name}`}>{r.name}</a>
                </th>
                <td class="num" data-col="tags">
                  {r.tagCount}
                </td>
                <td data-col="worst">{r.worst ? <SeverityBadge severity={r.worst} /> : <span class="muted">{totalOf(r.counts) === 0 ? 'none' : ''}</span>}{r.complete ? null : <span class="badge-partial" title="some backends have not scanned every image">partial</span>}</td>
                {SEVERITIES.slice(0, 5).map((s) => (
                  <td key={s} class="num hide-narrow" data-col={s}>
                    {(r.counts[s] ?? 0) > 0 ? <span style={{ borderBottom: `3px solid ${SEVERITY_COLOUR[s]}` }}>{r.counts[s]}</span> : <span class="muted">0</span>}
                  </td>
                ))}
                <td class="num" data-col="total">
                  {totalOf(r.counts)}
                </td>
                <td class="hide-narrow">{formatDate(r.lastPush)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}
