import { render } from 'preact';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { useEffect, useState } from 'preact/hooks';
import { onUnauthorised } from './api/client';
import { AdvisoryPage } from './pages/advisory';
import { ComparePage } from './pages/compare';
import { ManifestPage } from './pages/manifest';
import { NotFoundPage } from './pages/not-found';
import { RepositoriesPage } from './pages/repositories';
import { RepositoryPage } from './pages/repository';
import { SignInPage } from './pages/sign-in';
import { StatusPage } from './pages/status';
import { SessionProvider, useSession } from './session';
import './styles.css';

function Header() {
  const { user, signOut } = useSession();
  const { route, path } = useLocation();
  const [advisory, setAdvisory] = useState('');
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  return (
    <header class="top">
      <a class="brand" href="/">
        <span aria-hidden="true">▦</span> Portcullis
      </a>
      <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen((o) => !o)}>
        Menu
      </button>
      <nav id="main-nav" class={menuOpen ? 'open' : ''} aria-label="Main">
        <a href="/" aria-current={path === '/' ? 'page' : undefined}>
          Repositories
        </a>
        <a href="/status" aria-current={path === '/status' ? 'page' : undefined}>
          Feeds &amp; backends
        </a>
        <form
          role="search"
          class="advisory-search"
          onSubmit={(e) => {
            e.preventDefault();
            const id = advisory.trim();
            if (id !== '') route(`/advisories/${encodeURIComponent(id)}`);
          }}
        >
          <label class="visually-hidden" for="advisory-search">
            Advisory id
          </label>
          <input id="advisory-search" type="search" placeholder="CVE-…, GHSA-…, DSA-…" value={advisory} onInput={(e) => setAdvisory(e.currentTarget.value)} />
          <button type="submit">Find</button>
        </form>
        {user ? (
          <span class="user">
            <span data-testid="signed-in-user">{user.name}</span> <span class="muted">({user.role})</span>{' '}
            <button
              type="button"
              onClick={() => {
                void signOut().then(() => route('/login'));
              }}
            >
              Sign out
            </button>
          </span>
        ) : user === null ? (
          <a href={`/login?next=${encodeURIComponent(path)}`}>Sign in</a>
        ) : null}
      </nav>
    </header>
  );
}

/** An API 401 anywhere (session expired, not signed in) leads to the sign-in page, then back. */
function SignInOnUnauthorised() {
  const { route, path } = useLocation();
  useEffect(() => onUnauthorised(() => path !== '/login' && route(`/login?next=${encodeURIComponent(path)}`)), [path]);
  return null;
}

export function App() {
  return (
    <LocationProvider>
      <SessionProvider>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <Header />
        <SignInOnUnauthorised />
        <main id="main" tabIndex={-1}>
          <Router>
            <Route path="/" component={RepositoriesPage} />
            <Route path="/login" component={SignInPage} />
            <Route path="/status" component={StatusPage} />
            <Route path="/repositories/:namespace/:name/compare" component={ComparePage} />
            <Route path="/repositories/:namespace/:name" component={RepositoryPage} />
            <Route path="/manifests/:digest" component={ManifestPage} />
            <Route path="/advisories/:id" component={AdvisoryPage} />
            <Route default component={NotFoundPage} />
          </Router>
        </main>
      </SessionProvider>
    </LocationProvider>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
