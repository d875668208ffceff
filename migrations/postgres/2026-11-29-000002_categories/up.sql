-- The seeded categories (identical in both backends).
INSERT INTO categories (slug, name, description, icon, sample_keywords, position) VALUES
    ('development', 'Development', 'Coding helpers, refactoring, code review and language tooling', '💻', '["code", "refactor", "review", "git", "debug"]', 1),
    ('productivity', 'Productivity', 'Planning, notes, task management and everyday workflows', '⚡', '["tasks", "notes", "planning", "calendar", "focus"]', 2),
    ('data', 'Data', 'Data analysis, SQL, spreadsheets, pipelines and visualisation', '📊', '["sql", "csv", "analysis", "etl", "charts"]', 3),
    ('security', 'Security', 'Security review, threat modelling, secrets hygiene and audits', '🔒', '["audit", "vulnerability", "secrets", "threat", "owasp"]', 4),
    ('design', 'Design', 'UI and UX design, design systems, accessibility and assets', '🎨', '["ui", "ux", "figma", "accessibility", "css"]', 5),
    ('marketing', 'Marketing', 'Campaigns, SEO, social media and content strategy', '📣', '["seo", "campaign", "social", "copy", "newsletter"]', 6),
    ('sales', 'Sales', 'Prospecting, outreach, CRM hygiene and proposals', '🤝', '["crm", "outreach", "leads", "proposal", "pipeline"]', 7),
    ('writing', 'Writing', 'Drafting, editing, documentation and style', '✍️', '["docs", "editing", "blog", "style", "grammar"]', 8),
    ('research', 'Research', 'Literature review, summarisation and fact finding', '🔬', '["papers", "summary", "sources", "citations", "survey"]', 9),
    ('devops', 'DevOps', 'CI/CD, infrastructure as code, containers and observability', '🚀', '["ci", "docker", "kubernetes", "terraform", "deploy"]', 10),
    ('testing', 'Testing', 'Unit, integration and end-to-end tests, fixtures and coverage', '🧪', '["unit", "e2e", "coverage", "fixtures", "mocks"]', 11),
    ('code-agents', 'Code agents', 'Agents that write, review and maintain code on their own', '🤖', '["agent", "autonomous", "coder", "reviewer", "maintainer"]', 12),
    ('automation-agents', 'Automation agents', 'Agents that run workflows, triage and chores', '⚙️', '["workflow", "triage", "automation", "bot", "chores"]', 13),
    ('research-agents', 'Research agents', 'Agents that investigate, compare and report', '🧭', '["investigate", "compare", "report", "analyst", "scout"]', 14);
