import { useRoute } from 'preact-iso';
import { advisoryUsage } from '../api/queries';
import { SeverityBadge } from '../components/severity';
import { Empty, Loaded } from '../components/states';
import { shortDigest } from '../lib/format';
import { advisorySourceUrl } from '../lib/safe-url';
import { useTitle } from '../lib/title';
import { useApi } from '../lib/use-api';
import { manifestHref } from './repository';
import { TableWrap } from '../components/table-wrap';

export function AdvisoryPage() {
  const { params } = useRoute();
  const id = params.id ?? '';
  useTitle(id);
  const usage = useApi(() => advisoryUsage(id), [id]);
  const source = advisorySourceUrl(id);
  return (
    <section>
      <h1>
        Advisory <span class="break">{id}</span>
      </h1>
      {source ? (
        <p>
          <a href={source} target="_blank" rel="noopener noreferrer">
            {id} at its source ↗
          </a>
        </p>
      ) : null}
      <Loaded value={usage} what="where this advisory applies">
        {(rows) =>
          rows.length === 0 ? (
            <Empty>No scanned image is affected by {id} (or by an alias of it).</Empty>
          ) : (
            <>
              <p>
                Affects <strong>{new Set(rows.map((r) => `${r.repository}:${r.tag}`)).size}</strong> tags in <strong>{new Set(rows.map((r) => r.repository)).size}</strong> repositories.
              </p>
              <TableWrap label="Where the advisory applies">
                <table class="data" data-testid="advisory-usage">
                  <thead>
                    <tr>
                      <th scope="col">Repository</th>
                      <th scope="col">Tag</th>
                      <th scope="col">Package</th>
                      <th scope="col">Version</th>
                      <th scope="col">Severity</th>
                      <th scope="col" class="hide-narrow">
                        Found by
                      </th>
                      <th scope="col" class="hide-narrow">
                        Digest
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r, i) => (
                      <tr key={i}>
                        <th scope="row">
                          <a href={`/repositories/${r.repository}`}>{r.repository}</a>
                        </th>
                        <td>
                          <a href={manifestHref(r.digest, r.repository, r.tag)}>{r.tag}</a>
                        </td>
                        <td class="break">{r.package}</td>
                        <td class="break">{r.version}</td>
                        <td>
                          <SeverityBadge severity={r.severity} />
                        </td>
                        <td class="hide-narrow">{r.foundBy.join(', ')}</td>
                        <td class="hide-narrow mono">{shortDigest(r.digest)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            </>
          )
        }
      </Loaded>
    </section>
  );
}
