//! `concord user …` and `concord token create --role` through the real
//! binary, on SQLite and (when CONCORD_TEST_PG_URL is set) PostgreSQL.

use crate::common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;

/// Runs with `stdin` fed to the process.
fn with_stdin(db: &Db, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .env("CONCORD_DB", &db.url)
        .current_dir(db.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the concord binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn err(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn users_roles_and_tokens_from_the_command_line() {
    for db in backends() {
        let add = |email: &str, pw: &str, roles: &[&str]| {
            let mut args = vec![
                "user",
                "add",
                email,
                "--name",
                "Ann Lee",
                "--org",
                "HSSIB",
                "--password-stdin",
            ];
            for r in roles {
                args.extend(["--role", r]);
            }
            with_stdin(&db, &args, &format!("{pw}\n"))
        };
        // Weak, empty and long-enough-but-common passwords are refused,
        // naming the field; nothing is stored.
        for bad in ["", "short", "password1234", "ann.lee@hssib.org.uk!!"] {
            let out = add("ann.lee@hssib.org.uk", bad, &["administrator"]);
            assert_eq!(out.status.code(), Some(1), "{bad:?} on {}", db.name);
            assert!(
                err(&out).contains("field password"),
                "{bad:?}: {}",
                err(&out)
            );
        }
        // Bad roles, organisations and emails.
        let out = add("ann.lee@hssib.org.uk", "plum tractor velvet 42", &["king"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            err(&out).contains("--role") && err(&out).contains("king"),
            "{}",
            err(&out)
        );
        let out = add("not-an-email", "plum tractor velvet 42", &["author"]);
        assert!(err(&out).contains("field email"), "{}", err(&out));
        let out = with_stdin(
            &db,
            &[
                "user",
                "add",
                "x@y.uk",
                "--name",
                "X",
                "--org",
                "NOPE",
                "--role",
                "author",
                "--password-stdin",
            ],
            "plum tractor velvet 42\n",
        );
        assert!(err(&out).contains("field org"), "{}", err(&out));
        // Without --password-stdin and no terminal: told how.
        let out = with_stdin(
            &db,
            &[
                "user", "add", "x@y.uk", "--name", "X", "--org", "HSSIB", "--role", "author",
            ],
            "",
        );
        assert!(err(&out).contains("--password-stdin"), "{}", err(&out));
        assert_eq!(
            ok(&db, &["user", "list"]).trim(),
            "",
            "nothing was stored on {}",
            db.name
        );

        let out = add(
            "Ann.Lee@HSSIB.org.uk",
            "plum tractor velvet 42",
            &["administrator", "author"],
        );
        assert!(out.status.success(), "{}", err(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("ann.lee@hssib.org.uk"));
        // The same email in another case is the same person.
        let out = add(
            "ANN.LEE@hssib.org.uk",
            "plum tractor velvet 42",
            &["author"],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(
            err(&out).contains("already has an account"),
            "{}",
            err(&out)
        );

        ok(
            &db,
            &[
                "user",
                "role",
                "add",
                "ann.lee@hssib.org.uk",
                "--org",
                "NHSE",
                "--role",
                "respondent,assessor",
            ],
        );
        ok(
            &db,
            &[
                "user",
                "role",
                "remove",
                "ann.lee@hssib.org.uk",
                "--org",
                "HSSIB",
                "--role",
                "author",
            ],
        );
        let list = ok(&db, &["user", "list"]);
        assert!(list.contains("HSSIB (administrator)"), "{list}");
        assert!(list.contains("NHSE (respondent,assessor)"), "{list}");
        let json: serde_json::Value =
            serde_json::from_str(&ok(&db, &["user", "list", "--org", "NHSE", "--json"])).unwrap();
        assert_eq!(json[0]["user"]["email"], "ann.lee@hssib.org.uk");
        assert_eq!(json[0]["memberships"].as_array().unwrap().len(), 2);
        ok(
            &db,
            &[
                "user",
                "role",
                "remove",
                "ann.lee@hssib.org.uk",
                "--org",
                "NHSE",
                "--role",
                "respondent",
                "--role",
                "assessor",
            ],
        );
        assert!(!ok(&db, &["user", "list"]).contains("NHSE"));

        ok(&db, &["user", "disable", "ann.lee@hssib.org.uk"]);
        assert!(ok(&db, &["user", "list"]).contains("[disabled]"));
        ok(&db, &["user", "enable", "ann.lee@hssib.org.uk"]);
        let out = concord(&db, &["user", "disable", "nobody@hssib.org.uk"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(err(&out).contains("no user has the email"), "{}", err(&out));

        // Tokens with roles; the default is every role but administrator.
        let out = concord(
            &db,
            &["token", "create", "--org", "HSSIB", "--role", "respondent"],
        );
        assert!(out.status.success(), "{}", err(&out));
        assert!(err(&out).contains("(respondent)"), "{}", err(&out));
        let out = concord(&db, &["token", "create", "--org", "HSSIB"]);
        assert!(
            err(&out).contains("(author,approver,respondent,assessor,oversight)"),
            "{}",
            err(&out)
        );
        let out = concord(
            &db,
            &["token", "create", "--org", "HSSIB", "--role", "emperor"],
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(err(&out).contains("--role"), "{}", err(&out));
    }
}
