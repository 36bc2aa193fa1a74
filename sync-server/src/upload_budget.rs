//! What the changes of one upload (`/v1/sync`, `/v1/customer/sync`) may
//! cost together while they are decoded: bytes once inflated, and
//! operations. Each change is bounded on its own too (`change_bytes`); many
//! changes each just under those bounds would otherwise add up to gigabytes
//! and minutes.

use automerge::Change;
use shopsync_core::change_bytes::{self, ChangeBytesError, MAX_INFLATED_CHANGE_BYTES};
use shopsync_core::ids::DocId;
use shopsync_core::sync::wire::limits::{MAX_REQUEST_INFLATED_BYTES, MAX_REQUEST_OPS};
use shopsync_core::validate::{self, MAX_OPS_PER_CHANGE};

use crate::error::ApiError;

/// What is left of one request's budget.
pub struct UploadBudget {
    inflated_bytes: usize,
    ops: usize,
}

impl Default for UploadBudget {
    fn default() -> Self {
        UploadBudget {
            inflated_bytes: MAX_REQUEST_INFLATED_BYTES,
            ops: MAX_REQUEST_OPS,
        }
    }
}

impl UploadBudget {
    /// Decodes change `index` of document `doc` within what is left, and
    /// charges it. Refused before Automerge reads it if it would pass
    /// either its own bound or the request's.
    pub fn decode(&mut self, doc: &DocId, index: usize, bytes: &[u8]) -> Result<Change, ApiError> {
        let limit_bytes = MAX_INFLATED_CHANGE_BYTES.min(self.inflated_bytes);
        // Each change is held to its own operation bound before it is
        // decoded; the request's total counts operations (action rows) as
        // a till's outbox pages them, so a page the till built is never
        // refused for a figure it could not see (a column of predecessors
        // can have more rows than the change has operations).
        let (change, ops) =
            change_bytes::decode_change_within(bytes, limit_bytes, MAX_OPS_PER_CHANGE)
                .map_err(|e| refusal(doc, index, e))?;
        if ops > self.ops {
            return Err(ApiError::ChangeTooLarge(format!(
                "change {index} of {doc}: a request's changes hold more than {MAX_REQUEST_OPS} operations together (one change may hold {MAX_OPS_PER_CHANGE}); send the rest next time"
            )));
        }
        self.inflated_bytes = self.inflated_bytes.saturating_sub(change.raw_bytes().len());
        self.ops = self.ops.saturating_sub(ops);
        Ok(change)
    }
}

/// How a change that does not decode within the budget is refused: past a
/// bound of the request, 413; a change of too many operations is an
/// invalid record of its document (422, rule `bounds`, record `(change)`)
/// as it always was; anything else does not decode (400).
fn refusal(doc: &DocId, index: usize, e: ChangeBytesError) -> ApiError {
    match e {
        ChangeBytesError::TooLarge { .. } => ApiError::ChangeTooLarge(format!(
            "change {index} of {doc}: {e} (one change may inflate to {MAX_INFLATED_CHANGE_BYTES} bytes, a request's changes to {MAX_REQUEST_INFLATED_BYTES} together)"
        )),
        ChangeBytesError::TooManyOps { .. } => {
            ApiError::InvalidRecord(validate::too_many_operations(doc))
        }
        e => ApiError::BadRequest(format!("change {index} of {doc} does not decode: {e}")),
    }
}
