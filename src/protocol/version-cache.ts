// Derived forms of stored documents, kept per version of a document. The store freezes every
// committed document and replaces it (a new object) when it changes, so a frozen document is one
// version: what is derived from it — its wire form, and the XML the encoder renders from that —
// can be kept as long as that object lives. A document a call is changing (unfrozen) is never
// cached. `key` says what else the form depends on (e.g. the ARN's region).
import { reusableOutput } from './xml.ts';

export class VersionCache<D extends object, W extends object> {
  private readonly forms = new WeakMap<D, { key: string; form: W }>();

  constructor(private readonly build: (doc: D, key: string) => W) {}

  of(doc: D, key: string): W {
    if (!Object.isFrozen(doc)) return this.build(doc, key);
    const known = this.forms.get(doc);
    if (known && known.key === key) return known.form;
    // Deep-frozen and marked reusable: the XML encoder renders it once and reuses the text.
    const form = reusableOutput(this.build(doc, key));
    this.forms.set(doc, { key, form });
    return form;
  }
}
