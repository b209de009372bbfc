/**
 * Who is signed in. The session itself is the HTTP-only cookie the API sets; the UI only learns the
 * user's name, role and the session's CSRF token from GET /api/v1/session. When that says 401, the
 * instance may still allow anonymous reads (`auth.anonymous_read`): the pages try, and an API 401
 * sends the browser to the sign-in page.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken, unwrap } from './api/client';

export interface SessionUser {
  name: string;
  role: string;
}

interface SessionState {
  /** undefined while the first answer is awaited; null when nobody is signed in. */
  user: SessionUser | null | undefined;
  signIn(username: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionState>({ user: undefined, signIn: async () => undefined, signOut: async () => undefined });

export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [user, setUser] = useState<SessionUser | null | undefined>(undefined);
  useEffect(() => {
    api.GET('/api/v1/session').then(
      ({ data }) => {
        setCsrfToken(data?.csrfToken);
        setUser(data ? data.user : null);
      },
      () => setUser(null),
    );
  }, []);
  const state: SessionState = {
    user,
    async signIn(username, password) {
      const answer = await unwrap(api.POST('/api/v1/session', { body: { username, password } }));
      setCsrfToken(answer.csrfToken);
      setUser(answer.user);
    },
    async signOut() {
      await unwrap(api.DELETE('/api/v1/session')).catch(() => undefined);
      setCsrfToken(undefined);
      setUser(null);
    },
  };
  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  return useContext(SessionContext);
}
