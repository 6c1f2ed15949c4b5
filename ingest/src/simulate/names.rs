//! Names for the simulated organisation and its people, and weighted picks from small tables.

use rand::Rng;
use schemas::{Channel, TaskActionKind, Terminal};

/// Branch names for the first branches, in id order: real-sounding units of the Zibo city company.
const BRANCH_NAMES: [&str; 11] = [
    "张店支公司",
    "淄川支公司",
    "博山支公司",
    "周村支公司",
    "临淄支公司",
    "桓台支公司",
    "高青支公司",
    "沂源支公司",
    "城区一部",
    "城区二部",
    "城区三部",
];

/// The two out-of-scope units that close the list once there are at least 12 branches.
const OUT_OF_SCOPE: [&str; 2] = ["续保拓展部", "车商"];

const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋",
];

const GIVEN_NAMES: [&str; 32] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "晓东", "丹", "鹏", "婷",
    "雪梅", "国庆", "玉兰",
];

/// The id of branch `index` (0-based): `b01`, `b02`, …
pub(super) fn branch_id(index: u32) -> schemas::Id {
    compact_str::format_compact!("b{:02}", index + 1)
}

/// The name of branch `index` (0-based) out of `count`, and whether it is in scope.
pub(super) fn branch_name(index: u32, count: u32) -> (String, bool) {
    if count >= 12 && index + 2 >= count {
        return (
            OUT_OF_SCOPE[(index + 2 - count) as usize].to_string(),
            false,
        );
    }
    match BRANCH_NAMES.get(index as usize) {
        Some(name) => (name.to_string(), true),
        None => (
            format!("营业部{}", index as usize + 1 - BRANCH_NAMES.len()),
            true,
        ),
    }
}

/// A Chinese-looking personal name such as 张伟 or 李秀英.
pub(super) fn person_name(rng: &mut impl Rng) -> String {
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let given = GIVEN_NAMES[rng.random_range(0..GIVEN_NAMES.len())];
    format!("{surname}{given}")
}

/// Picks one of `items` with probability proportional to its weight.
fn weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut ticket = rng.random_range(0..total);
    for &(item, weight) in items {
        if ticket < weight {
            return item;
        }
        ticket -= weight;
    }
    items[items.len() - 1].0
}

/// A sales channel, spread over every channel with direct sales and agents the most common.
pub(super) fn channel(rng: &mut impl Rng) -> Channel {
    use Channel::*;
    weighted(
        rng,
        &[
            (Direct, 30),
            (IndividualAgent, 25),
            (RenewalTeam, 10),
            (CarDealer, 10),
            (RepairShop, 5),
            (ProfessionalAgency, 8),
            (RuralNetwork, 6),
            (UrbanNetwork, 6),
        ],
    )
}

/// A terminal: mobile (phone, PAD or WeChat) with probability `mobile_share`, else PC.
pub(super) fn terminal(rng: &mut impl Rng, mobile_share: f64) -> Terminal {
    if rng.random::<f64>() < mobile_share {
        weighted(
            rng,
            &[
                (Terminal::Phone, 60),
                (Terminal::Pad, 25),
                (Terminal::Wechat, 15),
            ],
        )
    } else {
        Terminal::Pc
    }
}

/// An action on a sales task, calls and quotes the most common.
pub(super) fn task_action(rng: &mut impl Rng) -> TaskActionKind {
    use TaskActionKind::*;
    weighted(
        rng,
        &[
            (Call, 30),
            (Quote, 25),
            (Sms, 15),
            (Save, 10),
            (Appointment, 10),
            (Handle, 10),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_names_follow_the_list_then_numbered_units_then_out_of_scope() {
        assert_eq!(branch_name(0, 3), ("张店支公司".to_string(), true));
        assert_eq!(branch_name(10, 11), ("城区三部".to_string(), true));
        assert_eq!(branch_name(10, 12), ("续保拓展部".to_string(), false));
        assert_eq!(branch_name(11, 12), ("车商".to_string(), false));
        assert_eq!(branch_name(11, 15), ("营业部1".to_string(), true));
        assert_eq!(branch_name(14, 15), ("车商".to_string(), false));
        assert_eq!(branch_id(0), "b01");
    }
}
