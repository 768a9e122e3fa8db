//! The hand-off every create answer carries: what the requestor needs to use the grant
//! (profile, command, switch-role link) and the grant as infrastructure code.

use xacct_policy::Arn;
use xacct_policy::handoff::{
    Access, HandOff, IamResource, assume_role_command, aws_config, cloudformation, profile_name,
    switch_role_url, terraform,
};

/// The note every hand-off for a person carries about the console and External IDs.
pub const CONSOLE_NOTE: &str = "the console's switch-role page has no External ID field: a person uses this role through the profile or the command; the link opens the page filled in";

/// Builds the hand-off for assuming `access.role_arn`, with `code` as the infrastructure
/// that creates the grant's side.
pub fn hand_off(
    access: &Access,
    for_person: bool,
    description: &str,
    code: &[IamResource],
    mut notes: Vec<String>,
) -> HandOff {
    let profile = profile_name(&access.role_arn);
    let aws_config = aws_config(&profile, access);
    if aws_config.is_none() {
        notes.push(
            "this service principal runs no code that reads an AWS profile; use the command's arguments in the service's own settings".to_owned(),
        );
    }
    let switch_role_url = for_person.then(|| {
        if access.external_id.is_some() {
            notes.push(CONSOLE_NOTE.to_owned());
        }
        switch_role_url(&access.role_arn, &display_name(&access.role_arn))
    });
    HandOff {
        aws_config,
        assume_role_command: assume_role_command(&profile, access),
        profile_name: profile,
        switch_role_url,
        cloudformation: cloudformation(description, code),
        terraform: terraform(code),
        notes,
    }
}

fn display_name(role: &Arn) -> String {
    format!("{} @ {}", role.resource_name(), role.account())
}
