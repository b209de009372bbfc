import { backendsStatus, feedsStatus } from '../api/queries';
import { Empty, Loaded } from '../components/states';
import { formatAge, formatDate } from '../lib/format';
import { useTitle } from '../lib/title';
import { useApi } from '../lib/use-api';
import { TableWrap } from '../components/table-wrap';

export function StatusPage() {
  useTitle('Feeds and backends');
  const feeds = useApi(feedsStatus, []);
  const backends = useApi(backendsStatus, []);
  return (
    <section>
      <h1>Feeds and backends</h1>
      <h2>Scanner backends</h2>
      <Loaded value={backends} what="the backends">
        {(list) =>
          list.length === 0 ? (
            <Empty>No backend is enabled.</Empty>
          ) : (
            <TableWrap label="Scanner backends">
              <table class="data" data-testid="backends">
                <thead>
                  <tr>
                    <th scope="col">Backend</th>
                    <th scope="col">Health</th>
                    <th scope="col" class="hide-narrow">
                      Reads
                    </th>
                    <th scope="col" class="num">
                      Scanned
                    </th>
                    <th scope="col" class="num">
                      Queued
                    </th>
                    <th scope="col" class="num">
                      Failed
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((b) => (
                    <tr key={b.name} data-backend={b.name}>
                      <th scope="row">
                        {b.name} <span class="muted">({b.kind})</span>
                      </th>
                      <td>
                        <span class={b.health.ok ? 'ok' : 'bad'}>{b.health.ok ? 'healthy' : 'unhealthy'}</span> <span class="muted break">{b.health.detail}</span>
                      </td>
                      <td class="hide-narrow">{b.needs}</td>
                      <td class="num">{b.scans.scanned}</td>
                      <td class="num">{b.scans.queued + b.scans.scanning}</td>
                      <td class="num">{b.scans.failed}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )
        }
      </Loaded>
      <h2>Vulnerability feeds</h2>
      <Loaded value={feeds} what="the vulnerability database">
        {(db) => (
          <>
            <p>
              Database built {formatDate(db.builtAt)}; data age {db.dataAge.hours === null ? 'unknown' : `${db.dataAge.hours} h`}.
            </p>
            <TableWrap label="Vulnerability feeds">
              <table class="data" data-testid="feeds">
                <thead>
                  <tr>
                    <th scope="col">Feed</th>
                    <th scope="col" class="num">
                      Records
                    </th>
                    <th scope="col">Fetched</th>
                    <th scope="col">Freshness</th>
                    <th scope="col" class="hide-narrow">
                      Source
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {db.feeds.map((f) => (
                    <tr key={f.feed} data-feed={f.feed}>
                      <th scope="row">{f.feed}</th>
                      <td class="num">{f.recordCount}</td>
                      <td title={f.fetchedAt}>{formatAge(f.fetchedAt)}</td>
                      <td>{f.status ?? '—'}</td>
                      <td class="hide-narrow break">{f.source}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </>
        )}
      </Loaded>
    </section>
  );
}
