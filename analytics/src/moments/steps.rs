//! Where the moments are judged: before the first message of each step of event time later than any seen.

use schemas::Message;

/// Where the cuts fall: the step of event time the messages have reached. Like the watermark, one event
/// far ahead (a device with a wrong clock) moves it only when the next events confirm the time.
#[derive(Debug, Clone)]
pub struct MomentSteps {
    step_ms: i64,
    /// The furthest a step moves on one event's word.
    max_jump_ms: i64,
    /// Events in a row that far ahead which confirm a new time.
    confirmations: u32,
    reached: Option<i64>,
    /// Events in a row seen further ahead than `max_jump_ms`.
    ahead: u32,
}

impl MomentSteps {
    /// Steps of `live.moment_step_secs` of event time, with the watermark's rule for jumps.
    pub fn new(config: &schemas::Config) -> Self {
        Self {
            step_ms: (config.live.moment_step_secs.max(1) * 1000) as i64,
            max_jump_ms: (config.max_watermark_jump_secs * 1000) as i64,
            confirmations: config.watermark_confirmations.max(1),
            reached: None,
            ahead: 0,
        }
    }

    /// The indices of `messages` before which the figures are judged: each first message of a step later
    /// than any before it (across batches).
    pub fn cuts(&mut self, messages: &[Message]) -> Vec<usize> {
        let mut cuts = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            let Ok(event) = &message.decoded else {
                continue;
            };
            let step = event.occurred_at.div_euclid(self.step_ms);
            let Some(reached) = self.reached else {
                self.reached = Some(step);
                continue;
            };
            if step <= reached {
                self.ahead = 0;
                continue;
            }
            if (step - reached) * self.step_ms > self.max_jump_ms {
                self.ahead += 1;
                if self.ahead < self.confirmations {
                    continue;
                }
            }
            self.ahead = 0;
            cuts.push(i);
            self.reached = Some(step);
        }
        cuts
    }
}
