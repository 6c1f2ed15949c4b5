//! The activity events (docs/scoring.md#events) as typed values, after validation.

use crate::time::{EpochMillis, YearMonth};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An identifier (event, branch, user, quote, policy, …): kept inline when it is at most 24 bytes, as
/// typical ids are, so decoding an event allocates nothing for them.
pub type Id = compact_str::CompactString;

/// Defines a closed set of string values: the enum, its wire names and a lookup by name.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's name on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The value named `wire`, if there is one.
            pub fn from_wire(wire: &str) -> Option<Self> {
                match wire { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// The wire names, for error messages and the JSON Schema.
            pub fn wire_names() -> Vec<&'static str> {
                Self::ALL.iter().map(|v| v.as_str()).collect()
            }
        }
    };
}

wire_enum! {
    /// The device a user acted from.
    Terminal {
        /// Desktop.
        Pc = "pc",
        /// Tablet (PAD).
        Pad = "pad",
        /// Phone app.
        Phone = "phone",
        /// WeChat service account.
        Wechat = "wechat",
    }
}

impl Terminal {
    /// Returns true if and only if the terminal counts as mobile (PAD, phone or WeChat).
    pub fn is_mobile(self) -> bool {
        !matches!(self, Terminal::Pc)
    }
}

wire_enum! {
    /// The sales channel a user belongs to.
    Channel {
        /// 直销.
        Direct = "direct",
        /// 个代.
        IndividualAgent = "individual_agent",
        /// 续保团队.
        RenewalTeam = "renewal_team",
        /// 车商.
        CarDealer = "car_dealer",
        /// 修理厂.
        RepairShop = "repair_shop",
        /// 专业代理.
        ProfessionalAgency = "professional_agency",
        /// 农网.
        RuralNetwork = "rural_network",
        /// 城网.
        UrbanNetwork = "urban_network",
    }
}

wire_enum! {
    /// What a proposal was saved as.
    ProposalKind {
        /// 投保单.
        Application = "application",
        /// 暂存单.
        Draft = "draft",
    }
}

wire_enum! {
    /// How a policy was closed.
    DealType {
        /// Closed through a sales task (任务成交).
        Task = "task",
        /// Quoted and proposed in the system.
        SystemQuote = "system_quote",
        /// Issued outside the system: never counts.
        Other = "other",
    }
}

impl DealType {
    /// Returns true if and only if policies of this deal type count towards deal premium and rewards.
    pub fn counts(self) -> bool {
        !matches!(self, DealType::Other)
    }
}

wire_enum! {
    /// An action on a sales task; any of them executes the task.
    TaskActionKind {
        /// 报价.
        Quote = "quote",
        /// 电话.
        Call = "call",
        /// 短信.
        Sms = "sms",
        /// 保存.
        Save = "save",
        /// 预约.
        Appointment = "appointment",
        /// 办理.
        Handle = "handle",
    }
}

wire_enum! {
    /// The kind of a report sent to the city company.
    ReportType {
        /// 工作例会纪要.
        MeetingMinutes = "meeting_minutes",
        /// 工作简报.
        Briefing = "briefing",
        /// 月度数据通报.
        MonthlyData = "monthly_data",
        /// 培训信息.
        Training = "training",
    }
}

wire_enum! {
    /// The `event_type` of an event.
    EventType {
        /// A user gains system access (or moves branch).
        UserRegistered = "user_registered",
        /// A user loses system access.
        UserDeregistered = "user_deregistered",
        /// A login.
        Login = "login",
        /// 报价.
        QuoteCreated = "quote_created",
        /// 转投保.
        ProposalCreated = "proposal_created",
        /// 成交.
        PolicyIssued = "policy_issued",
        /// A policy taken back.
        PolicyCancelled = "policy_cancelled",
        /// A payment.
        PaymentCompleted = "payment_completed",
        /// 销售任务 created.
        TaskCreated = "task_created",
        /// An action executing a task.
        TaskAction = "task_action",
        /// A task withdrawn.
        TaskCancelled = "task_cancelled",
        /// A policy due for renewal.
        RenewalDue = "renewal_due",
        /// A renewal given a service manager.
        RenewalAssigned = "renewal_assigned",
        /// Bound to the WeChat service account.
        WechatBound = "wechat_bound",
        /// Unbound from the WeChat service account.
        WechatUnbound = "wechat_unbound",
        /// A report sent to the city company.
        ReportSubmitted = "report_submitted",
        /// The city company's manual clearing score.
        ClearingScored = "clearing_scored",
    }
}

impl EventType {
    /// Returns true if and only if events of this type may omit `user_id`.
    pub fn user_optional(self) -> bool {
        matches!(
            self,
            EventType::RenewalDue | EventType::ReportSubmitted | EventType::ClearingScored
        )
    }

    /// Returns true if and only if events of this type change a user's state from their instant on
    /// ([`Event::is_state_change`]).
    pub fn is_state_change(self) -> bool {
        matches!(
            self,
            EventType::UserRegistered
                | EventType::UserDeregistered
                | EventType::WechatBound
                | EventType::WechatUnbound
        )
    }

    /// Returns true if and only if events of this type must carry `terminal`.
    pub fn terminal_required(self) -> bool {
        matches!(
            self,
            EventType::Login
                | EventType::QuoteCreated
                | EventType::ProposalCreated
                | EventType::PaymentCompleted
        )
    }
}

/// A validated activity event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id; a second event with the same id is a duplicate.
    pub event_id: Id,
    /// Event time, milliseconds since the epoch (UTC).
    pub occurred_at: EpochMillis,
    /// The branch the event belongs to.
    pub branch_id: Id,
    /// The salesperson, where the event type has one.
    pub user_id: Option<Id>,
    /// The device, where given.
    pub terminal: Option<Terminal>,
    /// The type-specific fields.
    pub payload: Payload,
}

impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }

    /// Returns true if and only if the event came from a mobile terminal.
    pub fn is_mobile(&self) -> bool {
        self.terminal.is_some_and(Terminal::is_mobile)
    }

    /// Returns true if and only if the event changes a user's state from its instant on (registration,
    /// deregistration, WeChat binding) rather than counting in its own month: such an event still changes
    /// the months that are open when it arrives after its own month has closed.
    pub fn is_state_change(&self) -> bool {
        self.event_type().is_state_change()
    }
}

/// The fields particular to each event type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // the fields are documented in docs/scoring.md#events and docs/event.schema.json
pub enum Payload {
    UserRegistered {
        channel: Channel,
        display_name: Option<String>,
        is_specialist: bool,
    },
    UserDeregistered,
    Login,
    QuoteCreated {
        quote_id: Id,
        quoted_premium: Option<f64>,
    },
    ProposalCreated {
        proposal_id: Id,
        quote_id: Option<Id>,
        kind: ProposalKind,
    },
    PolicyIssued {
        policy_id: Id,
        premium: f64,
        deal_type: DealType,
        quote_id: Option<Id>,
        proposal_id: Option<Id>,
    },
    PolicyCancelled {
        policy_id: Id,
    },
    PaymentCompleted {
        payment_id: Id,
        amount: f64,
        policy_id: Option<Id>,
    },
    TaskCreated {
        task_id: Id,
        subject_id: Id,
        valid_from: NaiveDate,
        valid_until: NaiveDate,
    },
    TaskAction {
        task_id: Id,
        action: TaskActionKind,
    },
    TaskCancelled {
        task_id: Id,
    },
    RenewalDue {
        policy_id: Id,
        due_month: YearMonth,
        vehicle_use: Id,
        ecommerce_direct: bool,
    },
    RenewalAssigned {
        policy_id: Id,
    },
    WechatBound,
    WechatUnbound,
    ReportSubmitted {
        report_id: Id,
        report_type: ReportType,
        accepted: bool,
    },
    ClearingScored {
        month: YearMonth,
        score: f64,
    },
}

impl Payload {
    /// The event type these fields belong to.
    pub fn event_type(&self) -> EventType {
        match self {
            Payload::UserRegistered { .. } => EventType::UserRegistered,
            Payload::UserDeregistered => EventType::UserDeregistered,
            Payload::Login => EventType::Login,
            Payload::QuoteCreated { .. } => EventType::QuoteCreated,
            Payload::ProposalCreated { .. } => EventType::ProposalCreated,
            Payload::PolicyIssued { .. } => EventType::PolicyIssued,
            Payload::PolicyCancelled { .. } => EventType::PolicyCancelled,
            Payload::PaymentCompleted { .. } => EventType::PaymentCompleted,
            Payload::TaskCreated { .. } => EventType::TaskCreated,
            Payload::TaskAction { .. } => EventType::TaskAction,
            Payload::TaskCancelled { .. } => EventType::TaskCancelled,
            Payload::RenewalDue { .. } => EventType::RenewalDue,
            Payload::RenewalAssigned { .. } => EventType::RenewalAssigned,
            Payload::WechatBound => EventType::WechatBound,
            Payload::WechatUnbound => EventType::WechatUnbound,
            Payload::ReportSubmitted { .. } => EventType::ReportSubmitted,
            Payload::ClearingScored { .. } => EventType::ClearingScored,
        }
    }
}
