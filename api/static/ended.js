// Why captions stopped, in words: from Agora's reason (its 102 notification or query) or ours.

const FAILURES = new Set(["Fatal ASR error", "Fatal Translation error", "RTC connection error"]);

/**
 * The status line for a task that ended with `status` (STOPPED, FAILED) and `reason`
 * (Agora's message, or the service's own: "stopped", "max_duration").
 * `maxIdleTime` is the idle limit the task was started with, in seconds.
 */
export function whyCaptionsEnded(status, reason, maxIdleTime) {
  if (reason === "Idle for too long") return `Captions stopped: nobody spoke for ${maxIdleTime} s.`;
  if (reason === "max_duration") return "Captions stopped: they reached this server's time limit for a task.";
  if (status === "FAILED" || FAILURES.has(reason)) {
    return `Captions stopped: the transcription service failed${reason && reason !== "FAILED" ? ` (${reason})` : ""}.`;
  }
  if (!reason || reason === "OK" || reason === "stopped" || reason === "STOPPED") return "Captions stopped.";
  return `Captions stopped (${reason}).`;
}
