/**
 * Which namespace kube-lego's own objects are in, chosen as kubectl chooses: the flag, then the
 * variable, then the current kubeconfig context's namespace (in a pod: the ServiceAccount's
 * namespace file, which client-node reads into its context), then `default`. Pure.
 */

/** Where the namespace came from, for messages such as "namespace x (from the context)". */
export type NamespaceSource = 'flag' | 'variable' | 'context' | 'default';

/** The chosen namespace and where it came from. */
export interface NamespaceChoice {
  namespace: string;
  source: NamespaceSource;
}

/** The candidates, each `undefined` (or empty) when absent. */
export interface NamespaceCandidates {
  /** `--namespace` / `-n`. */
  flag: string | undefined;
  /** `LEGO_NAMESPACE`. */
  variable: string | undefined;
  /** The current context's namespace. */
  context: string | undefined;
}

/** The first present candidate in kubectl's order; `default` when none is. */
export function chooseNamespace(candidates: NamespaceCandidates): NamespaceChoice {
  const order: [NamespaceSource, string | undefined][] = [
    ['flag', candidates.flag],
    ['variable', candidates.variable],
    ['context', candidates.context],
  ];
  for (const [source, value] of order) {
    const trimmed = value?.trim();
    if (trimmed) return { namespace: trimmed, source };
  }
  return { namespace: 'default', source: 'default' };
}

/** "from --namespace", "from LEGO_NAMESPACE", … for messages. */
export function describeNamespaceSource(source: NamespaceSource): string {
  switch (source) {
    case 'flag':
      return 'from --namespace';
    case 'variable':
      return 'from LEGO_NAMESPACE';
    case 'context':
      return "the kubeconfig context's namespace";
    case 'default':
      return 'the default: no flag, no LEGO_NAMESPACE, no namespace in the kubeconfig context';
  }
}
