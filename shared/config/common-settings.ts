/**
 * Settings both programs read: where the job's objects live, how to log, and the responder's
 * port (the job routes challenge traffic to it).
 */
import { LOG_LEVELS, LOG_TYPES } from '../logger.js';
import { namespaceName, objectName, oneOf, port } from './parsers.js';
import { setting } from './setting.js';

export const commonSettings = {
  namespace: setting({
    env: 'LEGO_NAMESPACE',
    flag: 'namespace',
    description:
      "Namespace of kube-lego's own objects: the account Secret, the challenge and status ConfigMaps, the Lease, the nginx challenge Service and Ingress",
    default: 'default',
    parse: namespaceName,
  }),
  port: setting({
    env: 'LEGO_PORT',
    flag: 'port',
    description: 'Port the responder listens on and the challenge Services target',
    default: '8080',
    parse: port,
  }),
  logLevel: setting({
    env: 'LEGO_LOG_LEVEL',
    flag: 'log-level',
    description: 'Lowest level logged',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
  }),
  logType: setting({
    env: 'LEGO_LOG_TYPE',
    flag: 'log-type',
    description: 'Log format: text (key=value) or json (one object per line)',
    default: 'text',
    parse: oneOf(LOG_TYPES),
  }),
  challengeConfigMap: setting({
    env: 'LEGO_CHALLENGE_CONFIGMAP',
    flag: 'challenge-configmap',
    description:
      'ConfigMap in LEGO_NAMESPACE holding pending HTTP-01 tokens (written by the job, served by the responder)',
    default: 'kube-lego-challenges',
    parse: objectName,
  }),
  statusConfigMap: setting({
    env: 'LEGO_STATUS_CONFIGMAP',
    flag: 'status-configmap',
    description:
      'ConfigMap in LEGO_NAMESPACE where the job records each certificate and the last run',
    default: 'kube-lego-status',
    parse: objectName,
  }),
};
