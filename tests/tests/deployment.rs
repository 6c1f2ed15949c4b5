//! docker-compose.yml cannot run here (no Docker engine), so this test reads it and checks that what it
//! would run matches the binary: services, ports, topics, and every flag of every command.

use serde_yaml::Value;
use std::path::PathBuf;
use tests::process::run;

fn repo() -> PathBuf {
    tests::workspace_dir()
}

fn compose() -> Value {
    let text = std::fs::read_to_string(repo().join("docker-compose.yml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("expected a list, got {value:?}"))
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => serde_yaml::to_string(other).unwrap().trim().to_string(),
        })
        .collect()
}

/// The value after `flag` in `args`.
fn flag<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} missing from {args:?}"));
    &args[i + 1]
}

/// Asserts every `--flag` of `args` is one `leaderboard <subcommand>` accepts.
fn assert_flags_exist(args: &[String]) {
    let help = String::from_utf8(run(&[&args[0], "--help"]).stdout).unwrap();
    for arg in args.iter().filter(|a| a.starts_with("--")) {
        assert!(
            help.contains(&format!("{arg} ")) || help.contains(&format!("{arg}\n")),
            "`leaderboard {}` has no flag {arg}:\n{help}",
            args[0]
        );
    }
}

#[test]
fn compose_runs_kraft_kafka_the_topics_the_service_and_the_simulator_with_real_flags() {
    let compose = compose();
    let services = &compose["services"];

    let kafka = &services["kafka"];
    assert!(
        kafka["image"]
            .as_str()
            .unwrap()
            .starts_with("apache/kafka:")
    );
    let roles = kafka["environment"]["KAFKA_PROCESS_ROLES"]
        .as_str()
        .unwrap();
    assert!(
        roles.contains("broker") && roles.contains("controller"),
        "one KRaft node: {roles}"
    );
    let advertised = kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        .as_str()
        .unwrap();
    assert!(strings(&kafka["ports"]).contains(&"9092:9092".to_string()));

    let service = &services["leaderboard"];
    assert_eq!(service["build"].as_str(), Some("."));
    assert!(repo().join("Dockerfile").is_file());
    let command = strings(&service["command"]);
    assert_eq!(command[0], "serve");
    assert_flags_exist(&command);
    let brokers = flag(&command, "--brokers");
    assert!(
        advertised.contains(&format!("INTERNAL://{brokers}")),
        "--brokers {brokers} is not Kafka's internal listener ({advertised})"
    );
    let topic = flag(&command, "--topic");
    let listen_port = flag(&command, "--listen").rsplit(':').next().unwrap();
    assert!(
        strings(&service["ports"]).contains(&format!("{listen_port}:{listen_port}")),
        "the service's port mapping does not match --listen"
    );

    let topics = strings(&services["topics"]["command"]).join(" ");
    for name in [topic.to_string(), format!("{topic}.dlq")] {
        assert!(
            topics.contains(&format!("--topic {name} ")),
            "topic {name} is not created: {topics}"
        );
    }

    let simulator = &services["simulator"];
    assert_eq!(strings(&simulator["profiles"]), vec!["simulator"]);
    let command = strings(&simulator["command"]);
    assert_eq!(command[0], "simulate");
    assert_flags_exist(&command);
    assert_eq!(flag(&command, "--brokers"), brokers);
    assert_eq!(flag(&command, "--topic"), topic);

    // The files the image carries parse, and agree with the compose file.
    let config = schemas::Config::from_file(&repo().join("deploy/leaderboard.toml")).unwrap();
    assert_eq!(config.kafka.topic, topic);
    assert_eq!(config.kafka.brokers, brokers);
    assert!(
        config.access.has_tokens(),
        "the container listens beyond localhost: without tokens the server would bind loopback only"
    );
    let org = std::fs::File::open(repo().join("deploy/org.csv")).unwrap();
    let org = schemas::Organisation::from_csv(org).unwrap();
    assert_eq!(org.branches.len(), 11);
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains("deploy/leaderboard.toml deploy/org.csv"));
}
