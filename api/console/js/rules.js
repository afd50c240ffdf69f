// The contract's notification rules (section 3), checked in the page exactly
// as the gateway checks them, so a wrong combination is refused before it
// is sent. Each violation names its field, as the gateway's do.

const OFFSET = /^(-?)[0-9]+ (day|days|hour|hours)$/;
const TIME = /^([0-9]|[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$/;
const TAKES_NEGATIVE = new Set(['PAYMENT_DUE_DATE', 'MINIMUM_PAYMENT_DUE']);

/** Every rule `input` breaks: [{field, message}]; empty when it may be sent. */
export function check({ accountId, notificationType, timeOffset, time, periodicInterval }) {
  const violations = [];
  const violation = (field, message) => violations.push({ field, message });
  if (!accountId?.trim()) violation('accountId', 'must not be empty');
  if (periodicInterval != null) {
    if (notificationType !== 'ACCOUNT_DELINQUENCY') {
      violation('periodicInterval', `only ACCOUNT_DELINQUENCY takes a periodicInterval, not ${notificationType}`);
    }
    if (timeOffset != null) violation('timeOffset', 'cannot be combined with periodicInterval');
    if (time != null) violation('time', 'cannot be combined with periodicInterval');
    return violations;
  }
  const offset = timeOffset == null ? null : OFFSET.exec(timeOffset);
  if (timeOffset == null) {
    violation('timeOffset', 'is required without periodicInterval (e.g. "-2 days")');
  } else if (!offset) {
    violation('timeOffset', `must be "<integer> days" or "<integer> hours" (e.g. "-2 days"), not "${timeOffset}"`);
  } else if (offset[1] === '-' && !TAKES_NEGATIVE.has(notificationType)) {
    violation('timeOffset', `cannot be negative for ${notificationType}, not "${timeOffset}"`);
  }
  if (time != null && !TIME.test(time)) {
    violation('time', `must be a 24-hour time H:MM:SS or HH:MM:SS (e.g. "7:30:00"), not "${time}"`);
  }
  return violations;
}
