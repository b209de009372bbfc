import { useLocation, useRoute } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { findingsExportUrl, manifestDetail, manifestFindings, prefetchManifestFindings, type FindingQuery } from '../api/queries';
import type { ManifestDetail } from '../api/types';
import { SeverityDoughnut } from '../components/lazy-charts';
import { FindingsTable, type FindingSortKey } from '../components/findings-table';
import { ScanStateLabel } from '../components/severity';
import type { SortState } from '../components/sort-header';
import { Empty, Loaded } from '../components/states';
import { formatDate, shortDigest } from '../lib/format';
import { SEVERITIES, totalOf, type SeverityCounts } from '../lib/severity';
import { useTitle } from '../lib/title';
import { useApi } from '../lib/use-api';

const PAGE_SIZES = [10, 25, 50, 100, 500] as const;
const DEFAULT_PAGE_SIZE = 100;
/** The findings query with no filter set: most severe first. */
const DEFAULT_QUERY: FindingQuery = { sort: '-severity' };

export function ManifestPage() {
  const { params } = useRoute();
  const { query } = useLocation();
  const digest = params.digest ?? '';
  const repository = query.repository;
  const tag = query.tag;
  useTitle(tag && repository ? `${repository}:${tag}` : shortDigest(digest));
  const detail = useApi(() => {
    // The table's first page (default filters) is asked for beside the detail, not after it.
    prefetchManifestFindings(digest, DEFAULT_QUERY, 0, DEFAULT_PAGE_SIZE);
    return manifestDetail(digest);
  }, [digest]);
  return (
    <section>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Repositories</a>
        {repository ? (
          <>
            {' / '}
            <a href={`/repositories/${repository}`}>{repository}</a>
          </>
        ) : null}
        {' / '}
        <span aria-current="page">{tag ?? shortDigest(digest)}</span>
      </nav>
      <h1>
        Vulnerabilities for {tag ? <>tag <b>{tag}</b></> : <span class="mono">{shortDigest(digest)}</span>}
        {repository ? <> of {repository}</> : null}
      </h1>
      <Loaded value={detail} what="this manifest">
        {(d) => <ManifestBody detail={d} />}
      </Loaded>
    </section>
  );
}

function Summary({ counts }: { counts: SeverityCounts }) {
  const total = totalOf(counts);
  if (total === 0) return <p data-testid="summary">We have detected no vulnerabilities on this tag.</p>;
  return (
    <div data-testid="summary">
      <p>
        We have detected <strong data-testid="total">{total}</strong> vulnerabilities:
      </p>
      <ul class="summary-lines">
        {SEVERITIES.filter((s) => (counts[s] ?? 0) > 0).map((s) => (
          <li key={s} data-severity={s}>
            {counts[s]} {s}-level vulnerabilities
          </li>
        ))}
      </ul>
    </div>
  );
}

function ManifestBody({ detail }: { detail: ManifestDetail }) {
  const scan = detail.scan;
  return (
    <>
      <dl class="facts">
        <dt>Digest</dt>
        <dd class="mono">{detail.digest}</dd>
        {detail.platform ? (
          <>
            <dt>Platform</dt>
            <dd>{detail.platform}</dd>
          </>
        ) : null}
        {detail.tags.length > 0 ? (
          <>
            <dt>Tags</dt>
            <dd>{detail.tags.map((t) => `${t.repository}:${t.tag}`).join(', ')}</dd>
          </>
        ) : null}
        <dt>Scan</dt>
        <dd>
          <ScanStateLabel status={scan.status} reason={scan.reason} />
          {scan.backends.map((b) => (
            <span key={b.backend} class="backend-state" data-backend={b.backend}>
              {' '}
              · {b.backend}: <ScanStateLabel status={b.status} reason={b.reason} />
            </span>
          ))}
        </dd>
      </dl>
      {detail.kind === 'index' ? (
        <>
          <p>This is a multi-platform image; each platform is scanned on its own:</p>
          <ul>
            {(detail.children ?? []).map((c) => (
              <li key={c.digest}>
                <a href={`/manifests/${encodeURIComponent(c.digest)}`}>{c.platform ?? c.digest}</a>
              </li>
            ))}
          </ul>
        </>
      ) : scan.status === 'queued' || scan.status === 'scanning' ? (
        <Empty>This image is {scan.status === 'queued' ? 'queued for scanning' : 'being scanned'}; its findings appear here when the scan ends.</Empty>
      ) : scan.status === 'unsupported' ? (
        <Empty>No enabled scanner can read this image{scan.reason ? `: ${scan.reason}` : '.'}</Empty>
      ) : (
        <>
          {scan.complete ? null : (
            <p class="warning" role="note">
              Not every backend scanned this image ({scan.reason ?? 'see the scan states above'}): findings may be missing.
            </p>
          )}
          <div class="summary-row">
            <Summary counts={scan.counts} />
            <SeverityDoughnut counts={scan.counts} />
          </div>
          <Findings detail={detail} />
        </>
      )}
    </>
  );
}

function Findings({ detail }: { detail: ManifestDetail }) {
  const [severities, setSeverities] = useState<ReadonlySet<string>>(new Set());
  const [fixable, setFixable] = useState(false);
  const [backend, setBackend] = useState('');
  const [pkg, setPkg] = useState('');
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [sort, setSort] = useState<SortState<FindingSortKey>>({ key: 'severity', descending: true });
  const [offset, setOffset] = useState(0);
  const [limit, setLimit] = useState<number>(DEFAULT_PAGE_SIZE);
  const debouncedText = useDebounced(text, 250);
  const debouncedPkg = useDebounced(pkg, 250);
  const query: FindingQuery = {
    ...(severities.size > 0 ? { severity: SEVERITIES.filter((s) => severities.has(s)).join(',') } : {}),
    ...(fixable ? { fixable } : {}),
    ...(backend ? { backend } : {}),
    ...(debouncedPkg.trim() ? { package: debouncedPkg.trim() } : {}),
    ...(debouncedText.trim() ? { q: debouncedText.trim() } : {}),
    ...(status ? { status } : {}),
    sort: `${sort.descending ? '-' : ''}${sort.key}`,
  };
  const key = JSON.stringify(query);
  useEffect(() => setOffset(0), [key, limit]);
  const page = useApi(() => manifestFindings(detail.digest, query, offset, limit), [detail.digest, key, offset, limit]);
  const layers = new Map((detail.layers ?? []).map((l) => [l.digest, l]));
  return (
    <>
      <h2 id="findings-heading">Findings</h2>
      <form class="filters" aria-label="Filter findings" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>Severity</legend>
          {SEVERITIES.map((s) => (
            <label key={s} class="check">
              <input
                type="checkbox"
                name="severity"
                value={s}
                checked={severities.has(s)}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  setSeverities((prev) => new Set(on ? [...prev, s] : [...prev].filter((x) => x !== s)));
                }}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <label class="check">
          <input type="checkbox" name="fixable" checked={fixable} onChange={(e) => setFixable(e.currentTarget.checked)} /> Fixable only
        </label>
        <label>
          Status{' '}
          <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="fixed">fixed</option>
            <option value="unfixed">unfixed</option>
            <option value="wont-fix">won't fix</option>
          </select>
        </label>
        <label>
          Backend{' '}
          <select name="backend" value={backend} onChange={(e) => setBackend(e.currentTarget.value)}>
            <option value="">all</option>
            {detail.scan.backends.map((b) => (
              <option key={b.backend} value={b.backend}>
                {b.backend}
              </option>
            ))}
          </select>
        </label>
        <label>
          Package <input name="package" type="search" value={pkg} onInput={(e) => setPkg(e.currentTarget.value)} placeholder="exact name" />
        </label>
        <label>
          Search <input name="q" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="id, package, text" />
        </label>
      </form>
      <div class="toolbar">
        <span>Export what the filters show:</span>
        {(['json', 'csv', 'sarif'] as const).map((f) => (
          <a key={f} class="button" href={findingsExportUrl(detail.digest, query, f)} download data-export={f}>
            {f.toUpperCase()}
          </a>
        ))}
      </div>
      <Loaded value={page} what="the findings">
        {(p) => (
          <>
            <FindingsTable findings={p.findings} layers={layers} sort={sort} onSort={setSort} />
            {p.total === 0 ? <Empty>No finding matches these filters.</Empty> : null}
            <nav class="pager" aria-label="Pages of findings">
              <span data-testid="page-range" aria-live="polite">
                {p.total === 0 ? '0' : `${p.offset + 1}–${Math.min(p.offset + p.findings.length, p.total)}`} of <span data-testid="findings-total">{p.total}</span>
              </span>
              <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>
                Previous
              </button>
              <button type="button" disabled={offset + limit >= p.total} onClick={() => setOffset(offset + limit)}>
                Next
              </button>
              <label>
                Rows per page{' '}
                <select value={String(limit)} onChange={(e) => setLimit(Number(e.currentTarget.value))}>
                  {PAGE_SIZES.map((n) => (
                    <option key={n} value={String(n)}>
                      {n}
                    </option>
                  ))}
                </select>
              </label>
            </nav>
          </>
        )}
      </Loaded>
      {detail.scan.backends.some((b) => b.finishedAt) ? <p class="muted">Last scanned {formatDate(detail.scan.backends.map((b) => b.finishedAt ?? '').sort().at(-1))}.</p> : null}
    </>
  );
}

function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}
