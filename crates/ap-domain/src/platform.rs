//! Install targets the clients support, served by `GET /v1/platforms`.

use serde::{Deserialize, Serialize};

/// One install target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Platform {
    /// Stable identifier, e.g. `claude-code`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether skills install there.
    pub supports_skills: bool,
    /// Whether agents install there.
    pub supports_agents: bool,
}

/// `(id, name, skills, agents)` of every supported target.
const PLATFORMS: [(&str, &str, bool, bool); 9] = [
    ("claude-code", "Claude Code", true, true),
    ("claude-desktop", "Claude Desktop", true, false),
    ("codex", "Codex", true, true),
    ("gemini", "Gemini CLI", true, true),
    ("kiro", "Kiro", true, true),
    ("cursor", "Cursor", true, true),
    ("windsurf", "Windsurf", true, true),
    ("copilot", "GitHub Copilot", true, true),
    ("opencode", "OpenCode", true, true),
];

/// Every supported target, in display order.
pub fn all() -> Vec<Platform> {
    PLATFORMS
        .iter()
        .map(|&(id, name, supports_skills, supports_agents)| Platform {
            id: id.to_owned(),
            name: name.to_owned(),
            supports_skills,
            supports_agents,
        })
        .collect()
}
