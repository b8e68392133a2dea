//! The local ARM server for the Azure stories: started in-process per test, and the environment
//! a `cairn` process needs to reach it (client-secret credentials whose authority is the
//! server, the Resource Manager endpoint, a subscription), with nothing inherited that could
//! reach a real Azure account.

use arm_test_server::client::{CLIENT_ID, CLIENT_SECRET, Client, TENANT};
use arm_test_server::{Options, Server};

use super::Project;
use super::story::Cloud;

pub const SUB: &str = "00000000-0000-0000-0000-00000000cafe";

pub struct LocalArm {
    _server: Server,
    pub client: Client,
}

impl LocalArm {
    pub fn start() -> LocalArm {
        let server = Server::start(Options::default());
        let client = Client::new(server.url());
        LocalArm {
            _server: server,
            client,
        }
    }

    pub fn url(&self) -> &str {
        &self.client.url
    }

    /// `/subscriptions/SUB/resourceGroups/GROUP`.
    pub fn group_id(&self, group: &str) -> String {
        format!("/subscriptions/{SUB}/resourceGroups/{group}")
    }

    /// The variables of a `cairn` process: set, or removed (`None`).
    pub fn environment(&self) -> Vec<(&'static str, Option<String>)> {
        let url = Some(self.url().to_string());
        vec![
            ("AZURE_TENANT_ID", Some(TENANT.to_string())),
            ("AZURE_CLIENT_ID", Some(CLIENT_ID.to_string())),
            ("AZURE_CLIENT_SECRET", Some(CLIENT_SECRET.to_string())),
            ("AZURE_AUTHORITY_HOST", url.clone()),
            ("AZURE_RESOURCE_MANAGER_ENDPOINT", url),
            ("AZURE_SUBSCRIPTION_ID", Some(SUB.to_string())),
            ("AZURE_FEDERATED_TOKEN_FILE", None),
            ("IDENTITY_ENDPOINT", None),
            ("MSI_ENDPOINT", None),
        ]
    }
}

impl Cloud for LocalArm {
    fn run(&self, p: &Project, args: &[&str]) -> (i32, String, String) {
        let mut cmd = p.cairn(args);
        for (name, value) in self.environment() {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        let out = cmd.output().expect("run cairn");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}
