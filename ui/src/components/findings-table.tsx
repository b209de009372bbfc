/**
 * The findings of a manifest: one row per aggregated finding, sorted by the API (`sort=`), a row
 * expanding into its description and its evidence. Everything here that came from a feed, a
 * registry or a backend (ids, titles, descriptions, package names, layer commands, links) is
 * rendered as text by Preact; links are made only of http(s) URLs (safeHttpUrl).
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { AggregatedFinding } from '../api/types';
import { formatDate, shortDigest } from '../lib/format';
import { advisorySourceUrl, safeHttpUrl } from '../lib/safe-url';
import { SeverityBadge } from './severity';
import { SortHeader, type SortState } from './sort-header';
import { VisibleText } from './visible-text';
import { TableWrap } from './table-wrap';

export type FindingSortKey = 'severity' | 'id' | 'package' | 'version' | 'fixed' | 'status';

export interface LayerInfo {
  index: number;
  digest: string;
  createdBy?: string;
}

const STATUS_LABEL: Record<string, string> = { fixed: 'fixed', unfixed: 'unfixed', 'wont-fix': "won't fix" };

export function FindingsTable({ findings, layers, sort, onSort }: { findings: AggregatedFinding[]; layers: ReadonlyMap<string, LayerInfo>; sort: SortState<FindingSortKey>; onSort: (s: SortState<FindingSortKey>) => void }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const keyOf = (f: AggregatedFinding) => `${f.id}\u0000${f.package.name}\u0000${f.package.version}\u0000${f.package.path ?? ''}`;
  const header = (label: string, key: FindingSortKey, className?: string) => <SortHeader label={label} sortKey={key} sort={sort} onSort={onSort} class={className} />;
  return (
    <TableWrap label="Findings">
      <table class="data findings" data-testid="findings" aria-describedby="findings-heading">
        <thead>
          <tr>
            <th scope="col" class="narrow">
              <span class="visually-hidden">Details</span>
            </th>
            {header('Advisory', 'id')}
            {header('Severity', 'severity')}
            {header('Package', 'package')}
            {header('Installed', 'version', 'hide-narrow')}
            {header('Fixed in', 'fixed')}
            {header('Status', 'status', 'hide-narrow')}
            <th scope="col" class="hide-narrow">
              Layer
            </th>
            <th scope="col" class="hide-narrow">
              Found by
            </th>
          </tr>
        </thead>
        <tbody>
          {findings.map((f) => {
            const key = keyOf(f);
            const expanded = open.has(key);
            const layer = f.package.layer !== undefined ? layers.get(f.package.layer) : undefined;
            const source = advisorySourceUrl(f.id, f.links);
            const detailsId = `details-${encodeURIComponent(key)}`;
            return (
              <Fragment key={key}>
                <tr data-finding={f.id} data-package={f.package.name} data-severity={f.severity}>
                  <td class="narrow">
                    <button
                      type="button"
                      class="expand"
                      aria-expanded={expanded}
                      aria-controls={expanded ? detailsId : undefined}
                      aria-label={`${expanded ? 'Hide' : 'Show'} details of ${f.id} in ${f.package.name}`}
                      onClick={() => setOpen((o) => (o.has(key) ? new Set([...o].filter((k) => k !== key)) : new Set([...o, key])))}
                    >
                      {expanded ? '▾' : '▸'}
                    </button>
                  </td>
                  <th scope="row" class="advisory">
                    <a href={`/advisories/${encodeURIComponent(f.id)}`} data-col="id">
                      {f.id}
                    </a>
                    {source ? (
                      <a class="external" href={source} target="_blank" rel="noopener noreferrer" aria-label={`${f.id} at its source`}>
                        ↗
                      </a>
                    ) : null}
                  </th>
                  <td data-col="severity">
                    <SeverityBadge severity={f.severity} />
                  </td>
                  <td data-col="package" class="break">
                    <VisibleText text={f.package.name} />
                  </td>
                  <td data-col="version" class="hide-narrow break">
                    {f.package.version}
                  </td>
                  <td data-col="fixed" class="break">
                    {f.fixedVersions.length > 0 ? f.fixedVersions.join(', ') : <span class="muted">—</span>}
                  </td>
                  <td data-col="status" class="hide-narrow">
                    {STATUS_LABEL[f.status] ?? f.status}
                  </td>
                  <td class="hide-narrow layer" title={layer?.createdBy}>
                    {layer ? (
                      <>
                        #{layer.index} <span class="cmd">{layer.createdBy !== undefined ? <VisibleText text={layer.createdBy} /> : shortDigest(layer.digest)}</span>
                      </>
                    ) : (
                      (f.package.addedBy ?? <span class="muted">—</span>)
                    )}
                  </td>
                  <td class="hide-narrow" data-col="found-by">
                    {f.foundBy.map((b) => b.backend).join(', ')}
                  </td>
                </tr>
                {expanded ? (
                  <tr class="details" id={detailsId}>
                    <td colSpan={9}>
                      <FindingDetails finding={f} layer={layer} />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </TableWrap>
  );
}

function FindingDetails({ finding: f, layer }: { finding: AggregatedFinding; layer: LayerInfo | undefined }) {
  const links = f.links.map((l) => ({ text: l, href: safeHttpUrl(l) }));
  return (
    <div class="finding-details" data-testid="finding-details">
      {f.title ? (
        <h3 class="title">
          <VisibleText text={f.title} />
        </h3>
      ) : null}
      <h4>Description</h4>
      <p class="description">{f.description && f.description.trim() !== '' ? <VisibleText text={f.description} /> : 'No description provided.'}</p>
      {f.aliases.length > 0 ? (
        <p>
          Also known as: <span class="break">{f.aliases.join(', ')}</span>
        </p>
      ) : null}
      <h4>Why</h4>
      <dl class="why">
        <dt>Package</dt>
        <dd>
          {f.package.name} {f.package.version}
          {f.package.path ? (
            <>
              {' '}
              in <code>{f.package.path}</code>
            </>
          ) : null}
          {layer ? (
            <>
              {' '}
              (layer #{layer.index} <span class="mono">{shortDigest(layer.digest)}</span>
              {layer.createdBy ? (
                <>
                  : <code class="cmd"><VisibleText text={layer.createdBy} /></code>
                </>
              ) : null}
              )
            </>
          ) : null}
        </dd>
        {f.evidence
          ? f.evidence.matches.map((m, i) => (
              <Fragment key={i}>
                <dt>Advisory record</dt>
                <dd>
                  {m.advisory.id} from feed <b>{m.advisory.feed}</b> ({m.advisory.namespace}, {m.advisory.nameKind} package {m.advisory.packageName}, {m.advisory.state}
                  {m.advisory.vendorStatus ? `, ${m.advisory.vendorStatus}` : ''})
                  {m.advisory.modified ? `, modified ${formatDate(m.advisory.modified)}` : ''}
                  {m.advisory.published ? `, published ${formatDate(m.advisory.published)}` : ''}
                </dd>
                <dt>Version rule</dt>
                <dd>
                  {m.rule.text}
                  {m.rule.scheme ? <span class="muted"> (compared as {m.rule.scheme} versions)</span> : null}
                </dd>
              </Fragment>
            ))
          : f.why
            ? [
                <dt key="a">Advisory</dt>,
                <dd key="a2">{f.why.advisory}</dd>,
                <dt key="r">Rule</dt>,
                <dd key="r2">{f.why.rule}</dd>,
              ]
            : null}
        {f.feed ? (
          <>
            <dt>Feed</dt>
            <dd>
              {f.feed.id}
              {f.feed.fetchedAt ? `, fetched ${formatDate(f.feed.fetchedAt)}` : ''}
            </dd>
          </>
        ) : null}
        <dt>Severity</dt>
        <dd>
          {f.severity} <span class="muted">({f.severitySource})</span>
        </dd>
        <dt>Found by</dt>
        <dd>
          <ul class="plain">
            {f.foundBy.map((b) => (
              <li key={b.backend}>
                <b>{b.backend}</b>: {b.id}, {b.backendSeverity}, package {b.package}
                {b.fixedIn.length > 0 ? `, fixed in ${b.fixedIn.join(', ')}` : ''}
              </li>
            ))}
            {f.notFoundBy.map((b) => (
              <li key={b.backend} class="muted">
                not by <b>{b.backend}</b> ({b.sawPackage === 'yes' ? `it saw the package${b.as ? ` as ${b.as}` : ''}` : b.sawPackage === 'no' ? 'it did not list the package' : 'it does not say which packages it saw'})
              </li>
            ))}
          </ul>
        </dd>
        {f.disagreements.length > 0 ? (
          <>
            <dt>Backends disagree</dt>
            <dd>
              <ul class="plain">
                {f.disagreements.map((d, i) => (
                  <li key={i}>
                    {d.kind === 'severity'
                      ? `severity: ${d.values.map((v) => `${v.backend} says ${v.backendSeverity}`).join('; ')} (shown: ${d.shown}, ${d.rule})`
                      : d.kind === 'fixed-version'
                        ? `fixed version: ${d.values.map((v) => `${v.backend} says ${v.fixedIn.join(', ') || 'none'}`).join('; ')}`
                        : `found by ${d.foundBy.join(', ')} only; ${d.sawPackageWithoutIt.map((s) => `${s.backend} saw ${s.as} without it`).join('; ')}`}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
      </dl>
      {links.length > 0 ? (
        <>
          <h4>Links</h4>
          <ul class="links plain">
            {links.map((l, i) => (
              <li key={i} class="break">
                {l.href ? (
                  <a href={l.href} target="_blank" rel="noopener noreferrer">
                    <VisibleText text={l.text} />
                  </a>
                ) : (
                  <span class="unsafe-link" title="not an http(s) link: shown as text">
                    <VisibleText text={l.text} />
                  </span>
                )}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
