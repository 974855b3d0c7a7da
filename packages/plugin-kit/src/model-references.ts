/**
 * `name:version` strings, as a registry records a bento's models (an OCI config's `models`,
 * BentoCloud's manifest `models`), as references; anything else in the list is left out.
 */
export function modelReferences(models: unknown): Array<{ name: string; version: string }> {
  if (!Array.isArray(models)) return [];
  return models.flatMap((model) => {
    const [name, version, ...rest] = typeof model === 'string' ? model.split(':') : [];
    return name && version && rest.length === 0 ? [{ name, version }] : [];
  });
}
