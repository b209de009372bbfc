import { useLocation, useRoute } from 'preact-iso';
import { useState } from 'preact/hooks';
import { repositoryHistory, repositoryTags } from '../api/queries';
import type { ManifestView, TagGroup } from '../api/types';
import { TrendChart } from '../components/lazy-charts';
import { SecurityCell } from '../components/severity';
import { Empty, Loaded } from '../components/states';
import { formatBytes, formatDate, shortDigest } from '../lib/format';
import { useTitle } from '../lib/title';
import { useApi } from '../lib/use-api';
import { TableWrap } from '../components/table-wrap';

export function manifestHref(digest: string, repository?: string, tag?: string): string {
  const params = new URLSearchParams();
  if (repository) params.set('repository', repository);
  if (tag) params.set('tag', tag);
  const q = params.toString();
  return `/manifests/${encodeURIComponent(digest)}${q ? `?${q}` : ''}`;
}

export function RepositoryPage() {
  const { params } = useRoute();
  const repository = `${params.namespace ?? ''}/${params.name ?? ''}`;
  useTitle(repository);
  const groups = useApi(() => repositoryTags(repository), [repository]);
  const history = useApi(() => repositoryHistory(repository), [repository]);
  return (
    <section>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Repositories</a> / <span aria-current="page">{repository}</span>
      </nav>
      <h1>{repository}</h1>
      <Loaded value={groups} what="the tags">
        {(all) =>
          all.length === 0 ? (
            <Empty>This repository has no tags.</Empty>
          ) : (
            <>
              <TagTable repository={repository} groups={all} />
              <CompareForm repository={repository} tags={all.flatMap((g) => g.tags)} />
            </>
          )
        }
      </Loaded>
      <h2>Findings over time</h2>
      <Loaded value={history} what="the history">
        {(h) => (h.points.length < 2 ? <Empty>Not enough scans yet for a trend ({h.points.length} so far).</Empty> : <TrendChart points={h.points} />)}
      </Loaded>
    </section>
  );
}

function platformsOf(manifest: ManifestView | undefined): string {
  if (manifest === undefined) return '—';
  if (manifest.kind === 'index') return (manifest.children ?? []).map((c) => c.platform ?? '?').join(', ') || '—';
  return manifest.platform ?? '—';
}

function TagTable({ repository, groups }: { repository: string; groups: TagGroup[] }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (digest: string) => setOpen((o) => (o.has(digest) ? new Set([...o].filter((d) => d !== digest)) : new Set([...o, digest])));
  return (
    <TableWrap label="Tags">
      <table class="data tags" data-testid="tag-groups">
        <thead>
          <tr>
            <th scope="col">Tags</th>
            <th scope="col" class="hide-narrow">
              Digest
            </th>
            <th scope="col" class="hide-narrow">
              Platforms
            </th>
            <th scope="col" class="num hide-narrow">
              Size
            </th>
            <th scope="col" class="hide-narrow">
              Pushed at
            </th>
            <th scope="col">Security</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => {
            const m = g.manifest;
            const isIndex = m?.kind === 'index';
            const children = m?.children ?? [];
            const expanded = open.has(g.digest);
            return [
              <tr key={g.digest} data-digest={g.digest} data-tags={g.tags.join(' ')}>
                <th scope="row">
                  {g.tags.map((t) =>
                    isIndex ? (
                      <span key={t} class="tag">
                        {t}
                      </span>
                    ) : (
                      <a key={t} class="tag" href={manifestHref(g.digest, repository, t)}>
                        {t}
                      </a>
                    ),
                  )}
                </th>
                <td class="hide-narrow mono" title={g.digest}>
                  {shortDigest(g.digest)}
                </td>
                <td class="hide-narrow" data-col="platforms">
                  {platformsOf(m)}
                </td>
                <td class="num hide-narrow">{m ? formatBytes(m.size) : '—'}</td>
                <td class="hide-narrow">{formatDate(g.pushedAt)}</td>
                <td>
                  {m === undefined ? (
                    <span class="scan-state">Unknown manifest</span>
                  ) : isIndex ? (
                    <button type="button" class="expand" aria-expanded={expanded} data-testid="expand-platforms" onClick={() => toggle(g.digest)}>
                      {expanded ? 'Hide' : 'See'} {children.length} platform{children.length === 1 ? '' : 's'}
                    </button>
                  ) : (
                    <a href={manifestHref(g.digest, repository, g.tags[0])} class="cell-link">
                      <SecurityCell counts={m.scan.counts} status={m.scan.status} reason={m.scan.reason} />
                    </a>
                  )}
                </td>
              </tr>,
              ...(isIndex && expanded
                ? children.map((c) => (
                    <tr key={c.digest} class="child" data-digest={c.digest} data-platform={c.platform ?? ''}>
                      <th scope="row" class="indent">
                        <a href={manifestHref(c.digest, repository, g.tags[0])}>{c.platform ?? 'unknown platform'}</a>
                      </th>
                      <td class="hide-narrow mono" title={c.digest}>
                        {shortDigest(c.digest)}
                      </td>
                      <td class="hide-narrow">{c.platform ?? '—'}</td>
                      <td class="num hide-narrow">{formatBytes(c.size)}</td>
                      <td class="hide-narrow" />
                      <td>
                        <a href={manifestHref(c.digest, repository, g.tags[0])} class="cell-link">
                          <SecurityCell counts={c.scan.counts} status={c.scan.status} reason={c.scan.reason} />
                        </a>
                      </td>
                    </tr>
                  ))
                : []),
            ];
          })}
        </tbody>
      </table>
    </TableWrap>
  );
}

function CompareForm({ repository, tags }: { repository: string; tags: string[] }) {
  const { route } = useLocation();
  // Tags come newest push first: compare the oldest with the newest by default.
  const [from, setFrom] = useState(tags[tags.length - 1] ?? '');
  const [to, setTo] = useState(tags[0] ?? '');
  if (tags.length < 2) return null;
  return (
    <form
      class="compare-form"
      onSubmit={(e) => {
        e.preventDefault();
        route(`/repositories/${repository}/compare?${new URLSearchParams({ from, to }).toString()}`);
      }}
    >
      <h2>Compare two tags</h2>
      <label for="compare-from">From</label>
      <select id="compare-from" value={from} onChange={(e) => setFrom(e.currentTarget.value)}>
        {tags.map((t) => (
          <option key={t}>{t}</option>
        ))}
      </select>
      <label for="compare-to">To</label>
      <select id="compare-to" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
        {tags.map((t) => (
          <option key={t}>{t}</option>
        ))}
      </select>
      <button type="submit">Compare</button>
    </form>
  );
}
