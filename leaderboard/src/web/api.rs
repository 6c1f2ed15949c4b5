//! The JSON API: scorecards, boards, periods, clearing scores, status, health and metrics.

use crate::live::boards::{Board, BoardView};
use crate::web::access::Grant;
use crate::web::error::ApiError;
use crate::web::state::AppState;
use analytics::{Figures, PeriodSpec};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemas::YearMonth;
use serde::Deserialize;
use serde_json::json;

/// Query of `/api/v1/scorecard`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `assessment`; the live month (the current one, kept to the assessment) when
    /// absent.
    period: Option<String>,
    /// Include per-user rows.
    #[serde(default)]
    users: bool,
    /// Read by [`Grant`]'s extractor.
    #[allow(dead_code)]
    token: Option<String>,
}

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(ApiError::from)
}

/// The period `text` names, or the live month ([`Figures::live_month`]).
fn period_of(figures: &Figures, text: Option<&str>) -> Result<PeriodSpec, ApiError> {
    match text {
        Some(text) => text.parse::<PeriodSpec>().map_err(ApiError::bad_request),
        None => Ok(PeriodSpec::Month(figures.live_month()?)),
    }
}

/// `GET /api/v1/scorecard?period=&users=`: docs/scoring.md#scorecard-json. A token limited to a branch sees
/// only its people: its own rows, and no other branch's names in the points at stake.
pub async fn scorecard(
    State(state): State<AppState>,
    grant: Grant,
    q: Result<Query<ScorecardQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let mut card = {
        let figures = state.live.figures().await;
        figures.scorecard(period_of(&figures, q.period.as_deref())?, q.users)?
    };
    if let Some(own) = grant.branch() {
        if let Some(users) = card.users.as_mut() {
            users.retain(|u| u.branch_id == own);
        }
        for row in card.branches.iter_mut().filter(|r| r.branch_id != own) {
            if let Some(stake) = row.at_stake.as_mut() {
                stake.hide_people();
            }
        }
    }
    Ok(Json(card).into_response())
}

/// Query of `/api/v1/history`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// `YYYY-MM`; the live month when absent.
    month: Option<String>,
    /// Only this branch's row and people.
    branch: Option<String>,
    /// `false`: the branches' days only, without the people (much smaller, for charts).
    users: Option<bool>,
    /// Read by [`Grant`]'s extractor.
    #[allow(dead_code)]
    token: Option<String>,
}

/// `GET /api/v1/history?month=&branch=&users=`: the month day by day (docs/scoring.md#day-by-day-history). A
/// token limited to a branch sees only its people.
pub async fn history(
    State(state): State<AppState>,
    grant: Grant,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let month = q
        .month
        .as_deref()
        .map(|text| text.parse::<YearMonth>().map_err(ApiError::bad_request))
        .transpose()?;
    let mut history = {
        let figures = state.live.figures().await;
        let month = match month {
            Some(month) => month,
            None => figures.live_month()?,
        };
        figures.history(month, q.branch.as_deref())?
    };
    let own = grant.branch();
    let with_users = q.users.unwrap_or(true);
    for day in &mut history.days {
        day.users
            .retain(|u| with_users && own.is_none_or(|own| u.branch_id == own));
    }
    Ok(Json(history).into_response())
}

/// Query of `/api/v1/boards/{board}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    /// As for the scorecard; the live month when absent.
    period: Option<String>,
    /// Only this branch's people (people boards).
    branch: Option<String>,
    /// Read by [`Grant`]'s extractor.
    #[allow(dead_code)]
    token: Option<String>,
}

/// `GET /api/v1/boards/{board}?period=&branch=`: the rows a wall screen shows.
pub async fn board(
    State(state): State<AppState>,
    grant: Grant,
    Path(board): Path<String>,
    q: Result<Query<BoardQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let board: Board = board
        .parse()
        .map_err(|e: String| ApiError::new(StatusCode::NOT_FOUND, e))?;
    let key = grant.board_key(board, q.branch, state.live.org())?;
    let card = {
        let figures = state.live.figures().await;
        figures.standings(
            period_of(&figures, q.period.as_deref())?,
            board.ranks_people(),
        )?
    };
    Ok(Json(BoardView::of(&key, &card, state.live.config())).into_response())
}

/// `GET /api/v1/periods`: the periods with data, for the manager view's selector.
pub async fn periods(State(state): State<AppState>, _grant: Grant) -> Result<Response, ApiError> {
    let current = state.live.engine.read().await.live_month()?;
    let config = state.live.config();
    let first = analytics::assessment_months(config).first;
    let months: Vec<YearMonth> = (0..=current.months_since(first))
        .map(|i| first.plus(i))
        .collect();
    let mut quarters: Vec<String> = months
        .iter()
        .map(|m| format!("{}-Q{}", m.year(), m.quarter()))
        .collect();
    quarters.dedup();
    Ok(Json(json!({
        "current": current.to_string(),
        "months": months.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        "quarters": quarters,
        "assessment": "assessment",
        "active_login_days": config.active_login_days,
        "indicators": analytics::Indicator::ALL
            .iter()
            .map(|&i| {
                let rule = json!({
                    "target": analytics::full_points_at(config, i),
                    "max_points": analytics::max_points(config, i),
                });
                (i.key().to_string(), rule)
            })
            .collect::<serde_json::Map<_, _>>(),
    }))
    .into_response())
}

/// Body of `POST /api/v1/clearing-scores`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearingScoreRequest {
    /// The branch scored.
    branch_id: String,
    /// The month scored (`YYYY-MM`).
    month: String,
    /// The score, 0..=10.
    score: f64,
    /// The event's id (a retry with the same id is a duplicate, never counted twice); generated when absent.
    event_id: Option<String>,
    /// Event time; by default the latest event time the pipeline has seen (so a replay of old data is not
    /// pushed into the future).
    occurred_at: Option<String>,
}

/// `POST /api/v1/clearing-scores` (admin): turns the request into a `clearing_scored` event on the
/// source, answered 202 once the source holds it.
pub async fn clearing_score(
    State(state): State<AppState>,
    grant: Grant,
    body: Result<Json<ClearingScoreRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    grant.require_admin()?;
    let Json(request) = body?;
    if state.live.org().branch(&request.branch_id).is_none() {
        return Err(ApiError::bad_request(format!(
            "unknown branch {:?}",
            schemas::excerpt(&request.branch_id)
        )));
    }
    let month: YearMonth = request.month.parse().map_err(ApiError::bad_request)?;
    let assessment = analytics::assessment_months(state.live.config());
    if !assessment.contains(month) {
        return Err(ApiError::bad_request(format!(
            "month {month} is outside the assessment ({}..={})",
            assessment.first, assessment.last
        )));
    }
    let occurred_at = match &request.occurred_at {
        Some(text) => text.clone(),
        None => {
            let engine = state.live.engine.read().await;
            let now = chrono::Utc::now().timestamp_millis();
            engine.calendar().rfc3339(engine.clearing_score_time(now))
        }
    };
    let event_id = request.event_id.clone().unwrap_or_else(|| {
        format!(
            "clearing-{}-{}-{}",
            request.branch_id,
            month,
            chrono::Utc::now().timestamp_micros()
        )
    });
    let event = json!({
        "event_id": event_id,
        "event_type": "clearing_scored",
        "occurred_at": occurred_at,
        "branch_id": request.branch_id,
        "month": month.to_string(),
        "score": request.score,
    });
    let payload = serde_json::to_vec(&event).expect("JSON values serialise");
    // The same validation every event gets: a bad score is refused here, not dead-lettered later.
    let bounds = state
        .live
        .config()
        .time_bounds(chrono::Utc::now().timestamp_millis());
    let decoded = schemas::decode_event(&payload, bounds)
        .map_err(|rejection| ApiError::bad_request(rejection.reason))?;
    // What the pipeline would drop without a word: answered here instead of with a 202.
    state
        .live
        .engine
        .read()
        .await
        .check_clearing_score(month, &event_id, decoded.occurred_at, &occurred_at)
        .map_err(|refusal| ApiError::new(StatusCode::CONFLICT, refusal.to_string()))?;
    state
        .publisher
        .publish(&request.branch_id, payload)
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("{e:#}")))?;
    tracing::info!(%event_id, branch = %request.branch_id, %month, score = request.score, "clearing score queued");
    Ok((StatusCode::ACCEPTED, Json(event)).into_response())
}

/// Where the pipeline stands: disposition totals, each partition's next offset and watermark, readiness and
/// the last checkpoint. The totals and offsets are the state's (they survive restarts), not this process's.
pub async fn status(State(state): State<AppState>, _grant: Grant) -> Response {
    let engine = state.live.engine.read().await;
    let arrival = engine.state().arrival();
    let partitions: serde_json::Map<String, serde_json::Value> = arrival
        .partitions()
        .iter()
        .map(|(p, clock)| {
            let time = |millis: Option<i64>| {
                millis
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.to_rfc3339())
            };
            (
                p.to_string(),
                json!({
                    "next_offset": clock.next_offset,
                    "watermark": time(clock.watermark),
                    "watermark_outliers": clock.outliers,
                    "last_outlier_at": time(clock.last_outlier),
                }),
            )
        })
        .collect();
    let checkpoint = state
        .live
        .checkpoint_saved_at()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339());
    Json(json!({
        "ready": state.live.readiness().is_ok(),
        "counts": engine.counts(),
        "partitions": partitions,
        "current_month": engine.current_month().map(|m| m.to_string()),
        "checkpoint_saved_at": checkpoint,
        "unknown_branches": engine.unknown_branches(),
    }))
    .into_response()
}

/// `GET /health`: the process answers.
pub async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`: 503 with a reason while the pipeline starts or the broker is away.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.live.readiness() {
        Ok(()) => Json(json!({ "ready": true })).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reason": reason })),
        )
            .into_response(),
    }
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            crate::metrics::render(
                handle,
                state.live.checkpoint_saved_at(),
                state.live.is_connected(),
            ),
        )
            .into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}
