/**
 * Reference data the domain computes over but does not read itself: the city gazetteer and the
 * built-in job-title taxonomy. Adapters read them (files, npm data packages) on first call and keep
 * them; the composition root passes them to the services that need them.
 */
import type { Gazetteer } from '../domain/analysis/geo';
import type { TaxonomyIndex } from '../domain/job-titles/taxonomy';

/** The gazetteer of the geographic analyses; the first call may take a while (it reads the data). */
export type GazetteerSource = () => Gazetteer;

/**
 * The curated taxonomy shipped with the app, validated and indexed; used until an admin imports one.
 * Throws (TaxonomyValidationError, or an I/O error naming the file) when it cannot be loaded.
 */
export type BuiltInTaxonomySource = () => TaxonomyIndex;
