/** A Logger that drops everything (tests assert behaviour, not log lines). */
export const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };
