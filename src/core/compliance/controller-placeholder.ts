/** The organisation as the documents name it: the controller (Art. 4(7) GDPR). */
export interface ControllerDetails {
  name: string;
  contact: string;
}

/** Domains reserved for examples (RFC 2606): a contact there reaches nobody. */
const EXAMPLE_DOMAIN = /(^|[@.])(example\.(org|com|net)|[a-z0-9-]+\.(invalid|example|test))$/i;

/**
 * Which controller details are still the placeholders of a fresh install (the name "sparsam", a contact at an example
 * domain): doctor warns about them and the generated documents show a visible warning until they are set
 * (`organisation:` in the configuration file). Empty when both are real.
 */
export function controllerPlaceholders(organisation: ControllerDetails): ('name' | 'contact')[] {
  const found: ('name' | 'contact')[] = [];
  if (organisation.name.trim().toLowerCase() === 'sparsam') found.push('name');
  if (EXAMPLE_DOMAIN.test(organisation.contact.trim())) found.push('contact');
  return found;
}
