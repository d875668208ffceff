//! The Rust `ap` and the Python `ap` (PyPI `agentpowers` 0.1.12, the path of its `ap` in
//! `AP_TEST_PYTHON_AP`; `.ci/run` installs it in a virtualenv) on one home folder: what
//! one installs, the other verifies, updates and uninstalls, in both directions, and
//! `pins.json` and the folders stay consistent for both; one sign-in serves both.

use std::path::PathBuf;

use crate::cli::{Home, skill_folder};
use crate::support::TestApp;

/// Where the Python tool is.
const PYTHON_AP_ENV: &str = "AP_TEST_PYTHON_AP";

#[actix_web::test]
async fn the_rust_and_python_tools_keep_one_state() {
    let Ok(python) = std::env::var(PYTHON_AP_ENV) else {
        // CI always sets it (.ci/run); a developer's run without the Python tool skips.
        assert!(std::env::var_os("CI").is_none(), "{PYTHON_AP_ENV} must be set under CI");
        eprintln!("{PYTHON_AP_ENV} unset: skipping the interoperability test");
        return;
    };
    let python = PathBuf::from(python);
    assert!(python.is_file(), "{PYTHON_AP_ENV}={} is not a file", python.display());
    let app = TestApp::sqlite().await;
    let seller = Home::of("ivy@example.com", "Ivy Interop");
    seller.logged_in(&app).await;
    let folder = skill_folder(seller.dir.path(), "interop-notes", "Version one.");
    let dir = folder.to_str().expect("path");
    let publish = async |changelog: &'static str| {
        let body = folder.join("SKILL.md");
        let text = std::fs::read_to_string(&body).expect("SKILL.md");
        std::fs::write(&body, format!("{text}\n{changelog}\n")).expect("a change");
        seller.run(&app, &["publish", "--dir", dir, "--changelog", changelog]).await
    };
    let (code, out, err) = seller.run(&app, &["publish", "--dir", dir]).await;
    assert_eq!(code, 0, "{out}{err}");

    let user = Home::new();
    let py = |args: &'static [&'static str]| user.run_program(&python, &app, args, "");
    let installed = user.dir.path().join(".claude/skills/interop-notes");

    // One sign-in (through the Rust tool) serves the Python tool too.
    user.logged_in(&app).await;
    let (code, out, err) = py(&["whoami"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cli@example.com"), "{out}");

    // Installed by Python; verified, updated and removed by Rust.
    let (code, out, err) = py(&["install", "interop-notes"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(installed.join("SKILL.md").is_file());
    let (code, out, _) = user.run(&app, &["verify"]).await;
    assert_eq!((code, out.as_str()), (0, "  OK      interop-notes (agentpowers)\n"));
    assert_eq!(publish("Second.").await.0, 0);
    let (code, out, err) = user.run(&app, &["update", "interop-notes"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Updated interop-notes from v1.0.0 to v1.0.1"), "{out}");
    let (code, out, err) = py(&["verify"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("OK") && out.contains("interop-notes"), "{out}");
    let (_, out, _) = py(&["status"]).await;
    assert!(out.contains("interop-notes") && out.contains("1.0.1"), "{out}");
    let (code, _, err) = user.run(&app, &["uninstall", "interop-notes", "--force"]).await;
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = py(&["verify"]).await;
    assert!(out.contains("No installed skills to verify."), "{out}");
    let (_, out, _) = py(&["status"]).await;
    assert!(out.contains("No skills installed."), "{out}");

    // Installed by Rust; verified, updated and removed by Python.
    let (code, _, err) = user.run(&app, &["install", "interop-notes"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = py(&["verify"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("OK") && out.contains("interop-notes"), "{out}");
    assert_eq!(publish("Third.").await.0, 0);
    let (code, out, err) = py(&["update", "interop-notes"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Updated interop-notes from v1.0.1 to v1.0.2"), "{out}");
    assert!(std::fs::read_to_string(installed.join("SKILL.md")).expect("new").contains("Third."));
    let (code, out, _) = user.run(&app, &["verify"]).await;
    assert_eq!((code, out.as_str()), (0, "  OK      interop-notes (agentpowers)\n"));
    let (_, out, _) = user.run(&app, &["status"]).await;
    assert!(out.contains("interop-notes  agentpowers  pass      1.0.2"), "{out}");

    // A local edit: both tools see it.
    std::fs::write(installed.join("examples/notes.md"), "edited").expect("edit");
    let (code, out, _) = py(&["verify"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL") && out.contains("hash mismatch"), "{out}");
    let (code, out, _) = user.run(&app, &["verify"]).await;
    assert_eq!(code, 1);
    assert!(out.contains("FAIL    interop-notes (agentpowers) — hash mismatch"), "{out}");
    let (_, out, _) = user.run_with(&app, &["update", "interop-notes"], "y\n").await;
    assert!(out.contains("Restored interop-notes v1.0.2 to original."), "{out}");
    assert_eq!(py(&["verify"]).await.0, 0, "the restore is whole for the other tool too");

    let (code, out, err) = py(&["uninstall", "interop-notes", "--force"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(!installed.exists());
    let (_, out, _) = user.run(&app, &["status"]).await;
    assert!(out.contains("No skills installed."), "{out}");
    let (_, out, _) = user.run(&app, &["verify"]).await;
    assert_eq!(out, "No installed skills to verify.\n");
    assert!(user.pins().as_object().expect("pins").is_empty());
}
