import { useTitle } from '../lib/title';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <section>
      <h1>Not found</h1>
      <p>
        This page does not exist. <a href="/">Back to the repositories</a>.
      </p>
    </section>
  );
}
