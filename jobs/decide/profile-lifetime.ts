/**
 * Whether LEGO_ACME_PROFILE and LEGO_MINIMUM_VALIDITY fit the certificates the directory issues:
 * the setting warnings `plan` prints and a run logs once. Pure: the directory's profile list and
 * the stored certificates are gathered elsewhere; nothing here reads the clock.
 *
 * Profiles are draft-aaron-acme-profiles: the directory's `meta.profiles` maps each profile name
 * to a human-readable description, and newOrder's `profile` field picks one. The description is
 * prose (Let's Encrypt links a page, Pebble writes what it was configured with), so a profile's
 * lifetime is not read from it: it is the lifetime of the newest certificate the job stored from
 * this directory, which shows what the directory issues now, or — before there is one — what
 * Let's Encrypt publishes for the profile's name.
 */
import { formatDuration } from '../../shared/duration.js';
import type { SettingWarningReason } from './reasons.js';
import type { CertificateFacts } from './certificate-facts.js';
import type { SecretView } from '../model.js';
import { SECRET_ANNOTATIONS } from '../tls-secret.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Lifetimes of Let's Encrypt's profiles (Let's Encrypt, "Profiles",
 * letsencrypt.org/docs/profiles): `classic` 90 days, `tlsserver` 45 days (its announced
 * lifetime), `shortlived` 160 hours. Used only while no certificate from the directory is stored.
 */
export const LETS_ENCRYPT_PROFILE_LIFETIMES_MS: Readonly<Record<string, number>> = {
  classic: 90 * DAY,
  tlsserver: 45 * DAY,
  shortlived: 160 * HOUR,
};

/** A certificate the job stored, as far as the lifetime is concerned. */
export interface StoredLifetime {
  notBefore: Date;
  notAfter: Date;
  /** The directory it was ordered from (the Secret's annotation); `undefined` when unknown. */
  directoryUrl: string | undefined;
}

/**
 * The lifetimes of the certificates stored in `decisions`' Secrets (those with readable facts),
 * each with the directory its Secret says it was ordered from.
 */
export function storedLifetimes(
  decisions: readonly { facts: CertificateFacts | undefined; secret: SecretView | undefined }[],
): StoredLifetime[] {
  return decisions.flatMap(({ facts, secret }) =>
    facts === undefined
      ? []
      : [
          {
            notBefore: facts.notBefore,
            notAfter: facts.notAfter,
            directoryUrl: secret?.annotations[SECRET_ANNOTATIONS.directoryUrl],
          },
        ],
  );
}

/** A lifetime and where it was learnt, as a phrase for messages. */
export interface ProfileLifetime {
  lifetimeMs: number;
  /** E.g. "the newest certificate from this directory lives 20s". */
  source: string;
}

/**
 * The lifetime certificates from `directoryUrl` have: that of the one with the latest
 * `notBefore` among `stored` ordered from that directory (notAfter − notBefore + 1 s), else the Let's Encrypt lifetime of
 * `profile` ({@link LETS_ENCRYPT_PROFILE_LIFETIMES_MS}), else `undefined`.
 */
export function profileLifetime(
  profile: string,
  directoryUrl: string,
  stored: readonly StoredLifetime[],
): ProfileLifetime | undefined {
  const newest = stored
    .filter((s) => s.directoryUrl === directoryUrl)
    .reduce<StoredLifetime | undefined>(
      (best, s) => (best === undefined || s.notBefore > best.notBefore ? s : best),
      undefined,
    );
  if (newest !== undefined) {
    // RFC 5280 §4.1.2.5: the validity period includes notAfter's second, so a "90-day"
    // certificate's notAfter is 90 days minus one second after its notBefore.
    const lifetimeMs = newest.notAfter.getTime() - newest.notBefore.getTime() + 1000;
    return {
      lifetimeMs,
      source: `the newest certificate from this directory lives ${formatDuration(lifetimeMs)}`,
    };
  }
  const known = LETS_ENCRYPT_PROFILE_LIFETIMES_MS[profile];
  return known === undefined
    ? undefined
    : {
        lifetimeMs: known,
        source: `Let's Encrypt's ${profile} profile issues ${formatDuration(known)} certificates`,
      };
}

/** A warning about the settings, with a stable reason. */
export interface SettingWarning {
  reason: SettingWarningReason;
  message: string;
}

/** What {@link settingWarnings} compares. */
export interface SettingWarningInput {
  /** LEGO_ACME_PROFILE; empty for the server's default. */
  profile: string;
  /**
   * The directory's `meta.profiles` names; `undefined` when it advertises none or was not read
   * (then nothing is said about the profile's name).
   */
  advertisedProfiles: readonly string[] | undefined;
  /** LEGO_MINIMUM_VALIDITY. */
  minimumValidityMs: number;
  /** {@link profileLifetime}; `undefined` when unknown (nothing is said about it). */
  lifetime: ProfileLifetime | undefined;
}

/**
 * The warnings about LEGO_ACME_PROFILE and LEGO_MINIMUM_VALIDITY, in this order:
 * - `ProfileNotAdvertised`: the directory lists profiles and LEGO_ACME_PROFILE is not one of them
 *   (every order would be refused; the certificates fail with the server's message and back off);
 * - `MinimumValidityNotShorterThanLifetime`: LEGO_MINIMUM_VALIDITY is at least the lifetime, so
 *   renewal uses a third of the lifetime alone (jobs/decide/renewal-threshold.ts), the same
 *   condition as there.
 * Empty when all is well.
 */
export function settingWarnings(input: SettingWarningInput): SettingWarning[] {
  const warnings: SettingWarning[] = [];
  const { profile, advertisedProfiles, lifetime, minimumValidityMs } = input;
  if (profile !== '' && advertisedProfiles !== undefined && !advertisedProfiles.includes(profile)) {
    warnings.push({
      reason: 'ProfileNotAdvertised',
      message: `LEGO_ACME_PROFILE is ${JSON.stringify(profile)}, but the directory offers ${advertisedProfiles.length === 0 ? 'no profile' : advertisedProfiles.join(', ')}: every order will be refused until it names one of them.`,
    });
  }
  if (lifetime !== undefined && minimumValidityMs >= lifetime.lifetimeMs) {
    warnings.push({
      reason: 'MinimumValidityNotShorterThanLifetime',
      message: `LEGO_MINIMUM_VALIDITY (${formatDuration(minimumValidityMs)}) is not shorter than the certificates' lifetime (${lifetime.source}): certificates are renewed with a third of their lifetime left (${formatDuration(Math.round(lifetime.lifetimeMs / 3000) * 1000)}) instead.`,
    });
  }
  return warnings;
}

/**
 * {@link settingWarnings} for a run's plan: the lifetime from its decisions' stored certificates
 * ({@link storedLifetimes}, {@link profileLifetime}).
 */
export function planSettingWarnings(
  plan: {
    decisions: readonly { facts: CertificateFacts | undefined; secret: SecretView | undefined }[];
    directoryUrl: string;
    minimumValidityMs: number;
  },
  profile: string,
  advertisedProfiles: readonly string[] | undefined,
): SettingWarning[] {
  return settingWarnings({
    profile,
    advertisedProfiles,
    minimumValidityMs: plan.minimumValidityMs,
    lifetime: profileLifetime(profile, plan.directoryUrl, storedLifetimes(plan.decisions)),
  });
}
