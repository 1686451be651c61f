/**
 * Labels and annotations that mark what this project created or manages. Everything the job
 * creates carries {@link MANAGED_BY}; cleanup only ever touches objects that carry it.
 */

/** `app.kubernetes.io/managed-by` value of every object the job creates. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kube-lego' } as const;

/** Prefix of the annotations the job writes on Secrets it manages. */
export const ANNOTATION_PREFIX = 'kube-lego.io/';
