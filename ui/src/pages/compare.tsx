import { useLocation, useRoute } from 'preact-iso';
import { compareTags } from '../api/queries';
import type { TagComparison } from '../api/types';
import { SeverityBadge } from '../components/severity';
import { Empty, Loaded } from '../components/states';
import { useTitle } from '../lib/title';
import { useApi } from '../lib/use-api';
import { TableWrap } from '../components/table-wrap';

type Summary = TagComparison['fixed'][number];

function DiffTable({ rows, label, testId }: { rows: Summary[]; label: string; testId: string }) {
  if (rows.length === 0) return <Empty>None {label.toLowerCase()}.</Empty>;
  return (
    <TableWrap label={label}>
      <table class="data" data-testid={testId}>
        <caption class="visually-hidden">{label}</caption>
        <thead>
          <tr>
            <th scope="col">Advisory</th>
            <th scope="col">Severity</th>
            <th scope="col">Package</th>
            <th scope="col">Version</th>
            <th scope="col" class="hide-narrow">
              Fixed in
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} data-finding={r.id}>
              <th scope="row">
                <a href={`/advisories/${encodeURIComponent(r.id)}`}>{r.id}</a>
              </th>
              <td>
                <SeverityBadge severity={r.severity} />
              </td>
              <td class="break">{r.package}</td>
              <td class="break">{r.version}</td>
              <td class="hide-narrow break">{r.fixedVersions.join(', ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function ComparePage() {
  const { params } = useRoute();
  const { query } = useLocation();
  const repository = `${params.namespace ?? ''}/${params.name ?? ''}`;
  const from = query.from ?? '';
  const to = query.to ?? '';
  useTitle(`${repository}: ${from} → ${to}`);
  const diff = useApi(() => compareTags(repository, from, to), [repository, from, to]);
  return (
    <section>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Repositories</a> / <a href={`/repositories/${repository}`}>{repository}</a> / <span aria-current="page">compare</span>
      </nav>
      <h1>
        {repository}: <span class="mono">{from}</span> → <span class="mono">{to}</span>
      </h1>
      <Loaded value={diff} what="the comparison">
        {(d) => (
          <>
            <p data-testid="compare-summary">
              <strong>{d.fixed.length}</strong> fixed, <strong>{d.introduced.length}</strong> introduced, <strong>{d.unchanged}</strong> unchanged from {from} to {to}.
            </p>
            <div class="columns">
              <div>
                <h2>Introduced in {to}</h2>
                <DiffTable rows={d.introduced} label="Introduced" testId="compare-introduced" />
              </div>
              <div>
                <h2>Fixed in {to}</h2>
                <DiffTable rows={d.fixed} label="Fixed" testId="compare-fixed" />
              </div>
            </div>
          </>
        )}
      </Loaded>
    </section>
  );
}
