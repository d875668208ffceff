//! The manifest layer: `SKILL.md` (or the agent's one `.md`) at the archive root, with
//! YAML frontmatter carrying `name` and `description`; and the agent tool audit.

use serde_json::Value;

use crate::PackageKind;
use crate::archive::File;
use crate::report::{Finding, Severity};

/// What the manifest layer learnt.
#[derive(Debug, Default)]
pub struct Manifest {
    /// Its findings.
    pub findings: Vec<Finding>,
    /// The manifest file.
    pub file: Option<String>,
    /// Its frontmatter, when it parsed.
    pub frontmatter: Option<Value>,
}

/// The YAML frontmatter of a Markdown text: `Ok(None)` when there is none.
pub fn frontmatter(text: &str) -> Result<Option<Value>, String> {
    let text = text.trim_start_matches('\u{FEFF}');
    let Some(rest) =
        text.strip_prefix("---").filter(|r| r.starts_with('\n') || r.starts_with("\r\n"))
    else {
        return Ok(None);
    };
    let end = rest
        .match_indices("\n---")
        .find(|(i, _)| {
            let after = &rest[i + 4..];
            after.is_empty() || after.starts_with('\n') || after.starts_with("\r\n")
        })
        .map(|(i, _)| i)
        .ok_or("the frontmatter has no closing ---")?;
    let yaml = &rest[..end];
    let value: Value = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
    match value {
        Value::Object(_) => Ok(Some(value)),
        Value::Null => Ok(Some(Value::Object(Default::default()))),
        _ => Err("the frontmatter is not a mapping".to_owned()),
    }
}

fn high(rule: &str, detail: impl Into<String>) -> Finding {
    Finding::new(Severity::High, "manifest", rule, detail)
}

/// Checks the manifest of a package.
pub fn check(files: &[File], kind: PackageKind) -> Manifest {
    let root_md: Vec<&File> = files
        .iter()
        .filter(|f| !f.path.contains('/') && f.path.to_lowercase().ends_with(".md"))
        .collect();
    let manifest = match kind {
        PackageKind::Skill => root_md.iter().find(|f| f.path == "SKILL.md").copied(),
        PackageKind::Agent => {
            let agents: Vec<&&File> =
                root_md.iter().filter(|f| f.path.to_lowercase() != "readme.md").collect();
            if agents.len() > 1 {
                return Manifest {
                    findings: vec![high(
                        "manifest.several_agents",
                        "The archive root holds more than one agent .md file.",
                    )],
                    ..Manifest::default()
                };
            }
            agents.first().map(|f| **f)
        }
    };
    let Some(file) = manifest else {
        let detail = match kind {
            PackageKind::Skill => "SKILL.md is missing from the archive root.",
            PackageKind::Agent => "The agent .md file is missing from the archive root.",
        };
        return Manifest {
            findings: vec![high("manifest.missing", detail)],
            ..Manifest::default()
        };
    };
    let mut result = Manifest { file: Some(file.path.clone()), ..Manifest::default() };
    let Ok(text) = std::str::from_utf8(&file.bytes) else {
        result
            .findings
            .push(high("manifest.not_text", "The manifest is not UTF-8 text.").in_file(&file.path));
        return result;
    };
    let front = match frontmatter(text) {
        Ok(Some(front)) => front,
        Ok(None) => {
            result.findings.push(
                high("manifest.no_frontmatter", "The manifest has no YAML frontmatter.")
                    .in_file(&file.path),
            );
            return result;
        }
        Err(error) => {
            result.findings.push(
                high(
                    "manifest.bad_frontmatter",
                    format!("The frontmatter is not valid YAML: {error}."),
                )
                .in_file(&file.path),
            );
            return result;
        }
    };
    for (key, max) in [("name", 64), ("description", 1024)] {
        match front.get(key).and_then(Value::as_str).map(str::trim) {
            Some(value) if !value.is_empty() && value.chars().count() <= max => {}
            Some(value) if !value.is_empty() => result.findings.push(
                Finding::new(Severity::Medium, "manifest", "manifest.too_long", format!("`{key}` is longer than {max} characters."))
                    .in_file(&file.path),
            ),
            _ => result.findings.push(
                high(
                    "manifest.missing_field",
                    format!("The frontmatter needs a `{key}` text (quote values YAML reads otherwise, such as yes, no or 123)."),
                )
                .in_file(&file.path),
            ),
        }
    }
    result.frontmatter = Some(front);
    result
}

/// The agent tool audit: unrestricted tools warn; shell access and inherited tools are noted.
pub fn audit_tools(frontmatter: Option<&Value>, file: Option<&str>) -> Vec<Finding> {
    let Some(front) = frontmatter else { return Vec::new() };
    let tools: Vec<String> = match front.get("tools") {
        Some(Value::String(list)) => {
            list.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect()
        }
        Some(Value::Array(items)) => {
            items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    };
    let at = |f: Finding| match file {
        Some(file) => f.in_file(file),
        None => f,
    };
    if tools.is_empty() {
        return vec![at(Finding::new(
            Severity::Low,
            "tool_access",
            "agent_tools.inherited",
            "No `tools` listed: the agent inherits every tool.",
        ))];
    }
    let mut findings = Vec::new();
    if tools.iter().any(|t| t == "*" || t.eq_ignore_ascii_case("all")) {
        findings.push(at(Finding::new(
            Severity::Medium,
            "tool_access",
            "agent_tools.unrestricted",
            "The agent asks for every tool.",
        )));
    }
    if tools.iter().any(|t| t.eq_ignore_ascii_case("bash")) {
        findings.push(at(Finding::new(
            Severity::Low,
            "tool_access",
            "agent_tools.shell",
            "The agent may run shell commands.",
        )));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frontmatter_is_yaml() {
        let front = frontmatter("---\nname: git-helper\ndescription: \"Helps: with git\"\ntools: [Read, Grep]\n---\n# Body\n")
            .expect("valid")
            .expect("present");
        assert_eq!(front["name"], "git-helper");
        assert_eq!(front["description"], "Helps: with git");
        assert_eq!(front["tools"][1], "Grep");
        let folded = frontmatter("---\nname: x\ndescription: >\n  two\n  lines\n---\n")
            .expect("valid")
            .expect("present");
        assert_eq!(folded["description"], "two lines\n");
        assert_eq!(frontmatter("# no frontmatter\n"), Ok(None));
        assert!(frontmatter("---\nname: [unclosed\n---\n").is_err());
        assert!(frontmatter("---\nname: x\n").is_err(), "unterminated");
        assert!(frontmatter("---\n- a list\n---\n").is_err());
    }

    proptest! {
        #[test]
        fn frontmatter_never_panics(body in ".{0,400}") {
            let _ = frontmatter(&format!("---\n{body}\n---\n"));
            let _ = frontmatter(&body);
        }

        #[test]
        fn simple_values_round_trip(name in "[a-z][a-z0-9-]{0,30}", words in "[A-Za-z ]{1,60}") {
            // Plain scalars that YAML reads as booleans or null are not names.
            let special = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
            prop_assume!(!special.contains(&name.as_str()));
            let text = format!("---\nname: {name}\ndescription: \"{words}\"\n---\nbody\n");
            let front = frontmatter(&text).expect("valid").expect("present");
            prop_assert_eq!(front["name"].as_str(), Some(name.as_str()));
            prop_assert_eq!(front["description"].as_str(), Some(words.as_str()));
        }
    }
}
