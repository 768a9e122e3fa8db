//! Logging in to an RDS database with IAM database authentication: `rds-db:connect` on exactly
//! one database user's dbuser ARN (built from the database's resource ID, never its name), the
//! finding when the database does not accept IAM logins, and the token command.

use crate::arn::Arn;
use crate::catalog::{self, ActionDef};
use crate::document::Statement;
use crate::ids::DbUser;
use crate::validate::{Finding, Severity};

/// The action that logs in to a database with an IAM token.
pub const CONNECT: &str = "rds-db:connect";

/// What the owner account says about a DB instance or cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseFacts {
    /// The instance's `DbiResourceId` or the cluster's `DbClusterResourceId`.
    pub resource_id: String,
    /// `IAMDatabaseAuthenticationEnabled`.
    pub iam_auth: bool,
    /// The endpoint a client connects to, and its port.
    pub endpoint: Option<String>,
    pub port: Option<i32>,
}

/// Whether the resource is one `rds-db:connect` logs in to: an RDS DB instance or cluster.
pub fn accepts_logins(resource: &Arn) -> bool {
    resource.service() == "rds"
        && matches!(
            resource.resource_type_and_id().map(|(kind, _)| kind),
            Some("db" | "cluster")
        )
}

/// Whether `action` is `rds-db:connect` (IAM compares actions without case).
pub fn is_connect(action: &str) -> bool {
    action.eq_ignore_ascii_case(CONNECT)
}

/// `rds-db:connect` from the catalog.
pub fn connect_action() -> Option<ActionDef> {
    catalog::action("rds-db", "connect")
}

/// `arn:PARTITION:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/USER`, from the database's ARN
/// (partition, region, account), its resource ID and the user. A resource ID is letters,
/// digits and `-` (`db-ABCDEFGHIJKL`); `None` for anything else, which could widen the ARN
/// into a pattern.
pub fn dbuser_arn(database: &Arn, resource_id: &str, user: &DbUser) -> Option<Arn> {
    if resource_id.is_empty()
        || !resource_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    Arn::from_parts(
        database.partition(),
        "rds-db",
        database.region(),
        database.account_id().as_ref(),
        &["dbuser:", resource_id, "/", user.as_str()].concat(),
    )
    .ok()
}

/// The statement that lets the role log in as exactly one database user.
pub fn connect_statement(dbuser: &Arn) -> Statement {
    Statement::allow(
        "RdsDbConnect",
        vec![CONNECT.to_owned()],
        vec![dbuser.to_string()],
    )
}

/// The finding for a database that does not accept IAM logins: `rds-db:connect` is granted
/// but no token works until IAM database authentication is turned on.
pub fn iam_auth_off(database: &Arn) -> Finding {
    let (kind, id) = database.resource_type_and_id().unwrap_or(("db", ""));
    let (command, flag) = if kind == "cluster" {
        ("modify-db-cluster", "--db-cluster-identifier")
    } else {
        ("modify-db-instance", "--db-instance-identifier")
    };
    Finding {
        severity: Severity::Warning,
        code: "IAM_DATABASE_AUTHENTICATION_OFF".into(),
        message: format!(
            "IAM database authentication is off on `{database}`: `rds-db:connect` logs in nowhere until it is on; turn it on with `aws rds {command} {flag} {id} --enable-iam-database-authentication --apply-immediately --region {}`, then let the user log in with IAM (PostgreSQL: `GRANT rds_iam TO <user>`; MySQL: `CREATE USER <user> IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'`)",
            database.region()
        ),
        statement: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Arn {
        "arn:aws:rds:us-east-1:111111111111:db:orders"
            .parse()
            .unwrap()
    }

    #[test]
    fn dbuser_arn_is_built_from_the_resource_id_and_the_user() {
        let user: DbUser = "app_reader".parse().unwrap();
        assert_eq!(
            dbuser_arn(&db(), "db-ABCDEFGHIJKL0123", &user)
                .unwrap()
                .to_string(),
            "arn:aws:rds-db:us-east-1:111111111111:dbuser:db-ABCDEFGHIJKL0123/app_reader"
        );
        let cluster: Arn = "arn:aws-cn:rds:cn-north-1:111111111111:cluster:analytics"
            .parse()
            .unwrap();
        assert_eq!(
            dbuser_arn(&cluster, "cluster-XYZ", &user)
                .unwrap()
                .to_string(),
            "arn:aws-cn:rds-db:cn-north-1:111111111111:dbuser:cluster-XYZ/app_reader"
        );
    }

    #[test]
    fn a_resource_id_that_could_widen_the_arn_is_refused() {
        let user: DbUser = "app".parse().unwrap();
        for bad in ["", "*", "db-1/*", "db?"] {
            assert!(dbuser_arn(&db(), bad, &user).is_none(), "{bad}");
        }
    }

    #[test]
    fn db_user_names_are_checked() {
        for good in ["app", "a", "App_Reader_2"] {
            assert!(good.parse::<DbUser>().is_ok(), "{good}");
        }
        let long = "a".repeat(64);
        for bad in ["", "1app", "_app", "app*", "app/x", "app-x", long.as_str()] {
            assert!(bad.parse::<DbUser>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_connect_statement_names_exactly_one_user_and_the_catalog_knows_it() {
        let arn = dbuser_arn(&db(), "db-ABC", &"app".parse().unwrap()).unwrap();
        let doc = crate::PolicyDocument::new(vec![connect_statement(&arn)]);
        assert_eq!(
            doc.to_json(),
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"RdsDbConnect","Effect":"Allow","Action":"rds-db:connect","Resource":"arn:aws:rds-db:us-east-1:111111111111:dbuser:db-ABC/app"}]}"#
        );
        let findings = crate::validate::permissions_policy(&doc);
        assert!(findings.is_empty(), "{findings:?}");
        assert!(connect_action().is_some());
    }

    #[test]
    fn only_db_instances_and_clusters_take_logins() {
        assert!(accepts_logins(&db()));
        assert!(accepts_logins(
            &"arn:aws:rds:us-east-1:111111111111:cluster:a"
                .parse()
                .unwrap()
        ));
        assert!(!accepts_logins(
            &"arn:aws:rds:us-east-1:111111111111:snapshot:a"
                .parse()
                .unwrap()
        ));
        assert!(!accepts_logins(&"arn:aws:s3:::b".parse().unwrap()));
    }

    #[test]
    fn iam_auth_off_says_how_to_turn_it_on() {
        let f = iam_auth_off(&db());
        assert_eq!(f.code, "IAM_DATABASE_AUTHENTICATION_OFF");
        assert!(f.message.contains("aws rds modify-db-instance --db-instance-identifier orders --enable-iam-database-authentication"), "{}", f.message);
    }
}
