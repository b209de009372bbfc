import { useEffect } from 'preact/hooks';

/** Sets the document title (screen readers announce it on navigation). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Portcullis`;
  }, [title]);
}
