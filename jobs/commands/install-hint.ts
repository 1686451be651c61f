/**
 * What a command run from a workstation says when the chosen namespace holds no install:
 * where the install is, or that none was found, or that other namespaces could not be searched.
 * Pure: the search's results are passed in.
 */
import {
  describeNamespaceSource,
  type NamespaceChoice,
} from '../../shared/config/namespace-choice.js';
import type { InstallsElsewhere } from '../kube/install-search.js';

/** The message for a namespace without an install; names `-n <namespace>` when one was found. */
export function installHint(
  choice: NamespaceChoice,
  statusConfigMap: string,
  elsewhere: InstallsElsewhere,
): string {
  const here = `no kube-lego install in namespace ${choice.namespace} (${describeNamespaceSource(choice.source)}): neither the status ConfigMap ${statusConfigMap} nor the Lease exists there`;
  if ('forbidden' in elsewhere)
    return `${here}; other namespaces could not be searched (listing ConfigMaps in all namespaces is not allowed: ${elsewhere.forbidden}). Name the install's namespace with --namespace/-n or LEGO_NAMESPACE`;
  const [first, ...more] = elsewhere.namespaces;
  if (first === undefined)
    return `${here}, and no other namespace has a status ConfigMap ${statusConfigMap} labelled by kube-lego (has a run finished yet?)`;
  if (more.length === 0)
    return `${here}; kube-lego is installed in namespace ${first}: use -n ${first}`;
  return `${here}; kube-lego is installed in namespaces ${elsewhere.namespaces.join(', ')}: choose one with -n`;
}
