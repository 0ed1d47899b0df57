// EC2's XML answers as plain objects: an element of `<item>` children is a list (and so is an
// empty `…Set` element), an element of other children an object, a leaf its text.
export function xmlToObject(el: Element): any {
  const kids = Array.from(el.children);
  if (kids.length === 0) {
    if (/Set$/.test(el.tagName) || el.tagName === 'item') return el.tagName === 'item' ? (el.textContent ?? '') : [];
    return el.textContent ?? '';
  }
  if (kids.every((k) => k.tagName === 'item')) return kids.map(xmlToObject);
  const out: Record<string, any> = {};
  for (const k of kids) {
    if (k.tagName === 'requestId') continue;
    out[k.tagName] = xmlToObject(k);
  }
  return out;
}

/** A resource's `Name` tag, if it has one. */
export function nameTag(resource: { tagSet?: unknown }): string | undefined {
  const tags = Array.isArray(resource.tagSet) ? resource.tagSet : [];
  return tags.find((t: any) => t.key === 'Name')?.value || undefined;
}
