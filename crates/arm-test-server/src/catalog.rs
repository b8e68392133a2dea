//! The resource-type table and what the server reads for it from the examples directory: the
//! official example payloads (request bodies, responses) and the swagger definitions of the
//! request bodies. Everything here is read once at start and never changes afterwards.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::lro::Mode;

/// Where a type's request-body schema lives: a swagger file (relative to the examples directory)
/// and a definition name in it.
#[derive(Debug, Clone, Copy)]
pub struct SchemaRef {
    pub file: &'static str,
    pub definition: &'static str,
}

const fn schema(file: &'static str, definition: &'static str) -> Option<SchemaRef> {
    Some(SchemaRef { file, definition })
}

/// The official example files of one type, by the operation they show. Names are relative to
/// `dir` (`<Namespace>/<api-version>`), without `.json`.
#[derive(Debug, Clone, Copy)]
pub struct Examples {
    pub dir: &'static str,
    /// PUT examples; the first one is the type's canonical create (its response supplies the
    /// server-computed defaults).
    pub put: &'static [&'static str],
    pub patch: Option<&'static str>,
    pub get: Option<&'static str>,
    pub list: Option<&'static str>,
    pub delete: Option<&'static str>,
}

/// One entry of the table: everything the server knows about a resource type.
#[derive(Debug)]
pub struct ResourceType {
    /// `Namespace/type[/childType...]`, as in the resource's `type` property.
    pub arm_type: &'static str,
    pub api_version: &'static str,
    /// The type this one nests under (its id is a prefix of ours); `None` for resource groups
    /// and for top-level types, whose parent is their resource group.
    pub parent: Option<&'static str>,
    /// Tracked resources carry `location` (and it is required on PUT).
    pub tracked: bool,
    /// Whether ARM offers PATCH for the type (swagger or examples show one).
    pub patchable: bool,
    pub examples: Option<Examples>,
    /// For a type without examples of its own whose shape appears inside another type's examples
    /// (security rules inside a network security group): a dotted path to the array holding it.
    pub examples_within: Option<&'static str>,
    pub put_schema: Option<SchemaRef>,
    pub patch_schema: Option<SchemaRef>,
    /// Default long-running-operation shapes for PUT, PATCH and DELETE.
    pub lro: [Mode; 3],
    /// The casing of the `Location` header in this type's examples.
    pub location_header: &'static str,
}

const NET: &str = "Microsoft.Network/2025-03-01/virtualNetwork.json";
const NET_COMMON: &str = "Microsoft.Network/2025-03-01/common.json";
const AKS: &str = "Microsoft.ContainerService/2025-05-01/managedClusters.json";
const PG: &str = "Microsoft.DBforPostgreSQL/2024-08-01/FlexibleServers.json";

use Mode::{Accepted, AsyncOperation, Location, NoContent, ProvisioningState, Sync};

/// The types of issue 6. Default LRO shapes are spread so that every shape is exercised by some
/// type, while staying within what that type's examples and swagger show.
pub static TYPES: &[ResourceType] = &[
    ResourceType {
        arm_type: "Microsoft.Resources/resourceGroups",
        api_version: "2025-04-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Resources/2025-04-01",
            put: &["CreateResourceGroup"],
            patch: None,
            get: Some("ResourceGroups_Get"),
            list: None,
            delete: Some("ForceDeleteVMsInResourceGroup"),
        }),
        examples_within: None,
        // No Resources swagger was saved: the ARM tracked-resource envelope (location, tags)
        // from common-types is what a resource group body is made of.
        put_schema: schema(
            "common-types/resource-management/v5/types.json",
            "TrackedResource",
        ),
        patch_schema: None,
        lro: [Sync, Sync, Location],
        location_header: "location",
    },
    ResourceType {
        arm_type: "Microsoft.Network/virtualNetworks",
        api_version: "2025-03-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Network/2025-03-01",
            put: &["VirtualNetworkCreateSubnet"],
            patch: Some("VirtualNetworkUpdateTags"),
            get: Some("VirtualNetworkGet"),
            list: Some("VirtualNetworkList"),
            delete: Some("VirtualNetworkDelete"),
        }),
        examples_within: None,
        put_schema: schema(NET, "VirtualNetwork"),
        patch_schema: schema(NET_COMMON, "TagsObject"),
        lro: [ProvisioningState, Sync, Location],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.Network/virtualNetworks/subnets",
        api_version: "2025-03-01",
        parent: Some("Microsoft.Network/virtualNetworks"),
        tracked: false,
        patchable: false,
        examples: Some(Examples {
            dir: "Microsoft.Network/2025-03-01",
            put: &["SubnetCreate"],
            patch: None,
            get: Some("SubnetGet"),
            list: Some("SubnetList"),
            delete: Some("SubnetDelete"),
        }),
        examples_within: None,
        put_schema: schema(NET, "Subnet"),
        patch_schema: None,
        lro: [AsyncOperation, Sync, Location],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.Network/networkSecurityGroups",
        api_version: "2024-10-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Network/2024-10-01",
            put: &[
                "NetworkSecurityGroupCreate",
                "NetworkSecurityGroupCreateWithRule",
            ],
            patch: None,
            get: Some("NetworkSecurityGroupGet"),
            list: Some("NetworkSecurityGroupList"),
            delete: Some("NetworkSecurityGroupDelete"),
        }),
        examples_within: None,
        // The schema is the 2025-03-01 one (no 2024-10-01 Network swagger was saved).
        put_schema: schema(NET, "NetworkSecurityGroup"),
        patch_schema: schema(NET_COMMON, "TagsObject"),
        lro: [AsyncOperation, Sync, AsyncOperation],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.Network/networkSecurityGroups/securityRules",
        api_version: "2024-10-01",
        parent: Some("Microsoft.Network/networkSecurityGroups"),
        tracked: false,
        patchable: false,
        // No security-rule examples exist: the rule shape comes from the NSG examples.
        examples: Some(Examples {
            dir: "Microsoft.Network/2024-10-01",
            put: &["NetworkSecurityGroupCreateWithRule"],
            patch: None,
            get: Some("NetworkSecurityGroupGet"),
            list: Some("NetworkSecurityGroupList"),
            delete: None,
        }),
        examples_within: Some("properties.securityRules"),
        put_schema: schema(NET, "SecurityRule"),
        patch_schema: None,
        lro: [ProvisioningState, Sync, NoContent],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.Network/publicIPAddresses",
        api_version: "2025-03-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Network/2025-03-01",
            put: &["PublicIpAddressCreateDefaults"],
            patch: None,
            get: Some("PublicIpAddressGet"),
            list: Some("PublicIpAddressList"),
            delete: Some("PublicIpAddressDelete"),
        }),
        examples_within: None,
        put_schema: schema(NET, "PublicIPAddress"),
        patch_schema: schema(NET_COMMON, "TagsObject"),
        lro: [Sync, Sync, Location],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.Network/natGateways",
        api_version: "2025-03-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Network/2025-03-01",
            put: &["NatGatewayCreateOrUpdate"],
            patch: None,
            get: Some("NatGatewayGet"),
            list: Some("NatGatewayList"),
            delete: Some("NatGatewayDelete"),
        }),
        examples_within: None,
        put_schema: schema(NET, "NatGateway"),
        patch_schema: schema(NET_COMMON, "TagsObject"),
        lro: [Location, Sync, Location],
        location_header: "location",
    },
    ResourceType {
        arm_type: "Microsoft.Network/applicationGateways",
        api_version: "2025-03-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Network/2025-03-01",
            put: &["ApplicationGatewayCreate"],
            patch: Some("ApplicationGatewayUpdateTags"),
            get: Some("ApplicationGatewayGet"),
            list: None,
            delete: Some("ApplicationGatewayDelete"),
        }),
        examples_within: None,
        put_schema: schema(
            "Microsoft.Network/2025-03-01/applicationGateway.json",
            "ApplicationGateway",
        ),
        patch_schema: schema("Microsoft.Network/2025-03-01/network.json", "TagsObject"),
        lro: [ProvisioningState, Sync, Location],
        location_header: "location",
    },
    ResourceType {
        arm_type: "Microsoft.ContainerService/managedClusters",
        api_version: "2025-05-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.ContainerService/2025-05-01",
            put: &["ManagedClustersCreate_Update"],
            patch: Some("ManagedClustersUpdateTags"),
            get: Some("ManagedClustersGet"),
            list: Some("ManagedClustersListByResourceGroup"),
            delete: None,
        }),
        examples_within: None,
        put_schema: schema(AKS, "ManagedCluster"),
        patch_schema: schema(AKS, "TagsObject"),
        lro: [ProvisioningState, Sync, Location],
        location_header: "location",
    },
    ResourceType {
        arm_type: "Microsoft.ContainerService/managedClusters/agentPools",
        api_version: "2025-05-01",
        parent: Some("Microsoft.ContainerService/managedClusters"),
        tracked: false,
        patchable: false,
        examples: Some(Examples {
            dir: "Microsoft.ContainerService/2025-05-01",
            put: &["AgentPoolsCreate_Update", "AgentPools_Update"],
            patch: None,
            get: Some("AgentPoolsGet"),
            list: Some("AgentPoolsList"),
            delete: Some("AgentPoolsDelete"),
        }),
        examples_within: None,
        put_schema: schema(AKS, "AgentPool"),
        patch_schema: None,
        lro: [Location, Sync, Location],
        location_header: "location",
    },
    ResourceType {
        arm_type: "Microsoft.DBforPostgreSQL/flexibleServers",
        api_version: "2024-08-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.DBforPostgreSQL/2024-08-01",
            put: &["ServerCreate"],
            patch: Some("ServerUpdate"),
            get: Some("ServerGet"),
            list: Some("ServerListByResourceGroup"),
            delete: Some("ServerDelete"),
        }),
        examples_within: None,
        put_schema: schema(PG, "Server"),
        patch_schema: schema(PG, "ServerForUpdate"),
        lro: [AsyncOperation, AsyncOperation, AsyncOperation],
        location_header: "Location",
    },
    // Databases and firewall rules of a flexible server: neither an example nor a swagger
    // definition was saved for them, so they are served but their bodies are not validated.
    ResourceType {
        arm_type: "Microsoft.DBforPostgreSQL/flexibleServers/databases",
        api_version: "2024-08-01",
        parent: Some("Microsoft.DBforPostgreSQL/flexibleServers"),
        tracked: false,
        patchable: false,
        examples: None,
        examples_within: None,
        put_schema: None,
        patch_schema: None,
        lro: [AsyncOperation, Sync, AsyncOperation],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules",
        api_version: "2024-08-01",
        parent: Some("Microsoft.DBforPostgreSQL/flexibleServers"),
        tracked: false,
        patchable: false,
        examples: None,
        examples_within: None,
        put_schema: None,
        patch_schema: None,
        lro: [AsyncOperation, Sync, AsyncOperation],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.Cache/redis",
        api_version: "2024-11-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Cache/2024-11-01",
            put: &["RedisCacheCreate"],
            patch: Some("RedisCacheUpdate"),
            get: Some("RedisCacheGet"),
            list: Some("RedisCacheListByResourceGroup"),
            delete: Some("RedisCacheDelete"),
        }),
        examples_within: None,
        put_schema: schema(
            "Microsoft.Cache/2024-11-01/redis.json",
            "RedisCreateParameters",
        ),
        patch_schema: schema(
            "Microsoft.Cache/2024-11-01/redis.json",
            "RedisUpdateParameters",
        ),
        lro: [ProvisioningState, Location, Location],
        location_header: "location",
    },
    ResourceType {
        arm_type: "Microsoft.Storage/storageAccounts",
        api_version: "2024-01-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Storage/2024-01-01",
            put: &["StorageAccountCreate"],
            patch: Some("StorageAccountUpdate"),
            get: Some("StorageAccountGetProperties"),
            list: Some("StorageAccountListByResourceGroup"),
            delete: Some("StorageAccountDelete"),
        }),
        examples_within: None,
        put_schema: schema(
            "Microsoft.Storage/2024-01-01/storage.json",
            "StorageAccountCreateParameters",
        ),
        patch_schema: schema(
            "Microsoft.Storage/2024-01-01/storage.json",
            "StorageAccountUpdateParameters",
        ),
        // StorageAccountCreate.json: PUT 202 with neither body nor header.
        lro: [Accepted, Sync, NoContent],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.Storage/storageAccounts/blobServices/containers",
        api_version: "2024-01-01",
        parent: Some("Microsoft.Storage/storageAccounts"),
        tracked: false,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.Storage/2024-01-01",
            put: &["BlobContainersPutDefaultEncryptionScope"],
            patch: Some("BlobContainersPatch"),
            get: Some("BlobContainersGet"),
            list: None,
            delete: Some("BlobContainersDelete"),
        }),
        examples_within: None,
        put_schema: schema("Microsoft.Storage/2024-01-01/blob.json", "BlobContainer"),
        patch_schema: schema("Microsoft.Storage/2024-01-01/blob.json", "BlobContainer"),
        lro: [Sync, Sync, Sync],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.KeyVault/vaults",
        api_version: "2024-11-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.KeyVault/2024-11-01",
            put: &["createVault"],
            patch: Some("updateVault"),
            get: Some("getVault"),
            list: Some("listVaultByResourceGroup"),
            delete: Some("deleteVault"),
        }),
        examples_within: None,
        put_schema: schema(
            "Microsoft.KeyVault/2024-11-01/keyvault.json",
            "VaultCreateOrUpdateParameters",
        ),
        patch_schema: schema(
            "Microsoft.KeyVault/2024-11-01/keyvault.json",
            "VaultPatchParameters",
        ),
        lro: [Sync, Sync, Sync],
        location_header: "Location",
    },
    ResourceType {
        arm_type: "Microsoft.OperationalInsights/workspaces",
        api_version: "2025-02-01",
        parent: None,
        tracked: true,
        patchable: true,
        examples: Some(Examples {
            dir: "Microsoft.OperationalInsights/2025-02-01",
            put: &["WorkspacesCreate"],
            patch: Some("WorkspacesUpdate"),
            get: Some("WorkspacesGet"),
            list: Some("WorkspacesListByResourceGroup"),
            delete: Some("WorkspacesDelete"),
        }),
        examples_within: None,
        put_schema: schema(
            "Microsoft.OperationalInsights/2025-02-01/Workspaces.json",
            "Workspace",
        ),
        patch_schema: schema(
            "Microsoft.OperationalInsights/2025-02-01/Workspaces.json",
            "WorkspacePatch",
        ),
        lro: [AsyncOperation, Sync, AsyncOperation],
        location_header: "Location",
    },
];

/// The table entry for `arm_type`, compared case-insensitively as ARM does.
pub fn find_type(arm_type: &str) -> Option<&'static ResourceType> {
    TYPES
        .iter()
        .find(|t| t.arm_type.eq_ignore_ascii_case(arm_type))
}

/// What was read for one type from its example files.
#[derive(Debug, Default)]
pub struct TypeExamples {
    /// Every object the examples show for this type: request bodies and response bodies (list
    /// pages unpacked). A property is known if any of them has it at the same place.
    pub shapes: Vec<Value>,
    /// The canonical create example: its request body and its final response body.
    pub create: Option<(Value, Value)>,
    /// Header names the delete example's 204 carries (network security groups and NAT gateways
    /// send LRO headers even on a 204).
    pub delete_204_headers: Vec<String>,
}

/// Everything read from the examples directory.
#[derive(Debug)]
pub struct Catalog {
    pub dir: PathBuf,
    pub examples: HashMap<&'static str, TypeExamples>,
    pub swagger: crate::schema::Swagger,
}

#[derive(Debug)]
pub struct CatalogError(pub String);

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CatalogError {}

impl Catalog {
    pub fn load(dir: &Path) -> Result<Catalog, CatalogError> {
        let mut examples = HashMap::new();
        let mut swagger_files: Vec<&str> = Vec::new();
        for ty in TYPES {
            examples.insert(ty.arm_type, load_type_examples(dir, ty)?);
            for s in [ty.put_schema, ty.patch_schema].into_iter().flatten() {
                if !swagger_files.contains(&s.file) {
                    swagger_files.push(s.file);
                }
            }
        }
        let swagger = crate::schema::Swagger::load(dir, &swagger_files)?;
        for ty in TYPES {
            for s in [ty.put_schema, ty.patch_schema].into_iter().flatten() {
                if !swagger.has(&s) {
                    return Err(CatalogError(format!(
                        "{}: no definition {} in {}",
                        ty.arm_type, s.definition, s.file
                    )));
                }
            }
        }
        Ok(Catalog {
            dir: dir.to_path_buf(),
            examples,
            swagger,
        })
    }

    pub fn examples_of(&self, ty: &ResourceType) -> Option<&TypeExamples> {
        self.examples.get(ty.arm_type)
    }
}

/// Reads and parses one JSON file of the examples directory.
pub fn read_json(dir: &Path, rel: &str) -> Result<Value, CatalogError> {
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CatalogError(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CatalogError(format!("{} is not JSON: {e}", path.display())))
}

/// The request body of an example file: the one parameter whose value is an object (its name
/// varies: `parameters`, `subnetParameters`, `blobContainer`).
pub fn example_request_body(example: &Value) -> Option<&Value> {
    example
        .get("parameters")?
        .as_object()?
        .values()
        .find(|v| v.is_object())
}

/// The response bodies of an example file, with list pages unpacked into their items.
fn example_response_bodies(example: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    let Some(responses) = example.get("responses").and_then(Value::as_object) else {
        return out;
    };
    for response in responses.values() {
        let Some(body) = response.get("body") else {
            continue;
        };
        match body.get("value").and_then(Value::as_array) {
            Some(items) if body.get("properties").is_none() => out.extend(items.iter()),
            _ => out.push(body),
        }
    }
    out
}

/// Follows a dotted path of object keys and unpacks the array at its end (for shapes that live
/// inside another type's examples).
fn descend<'a>(value: &'a Value, within: &str) -> Vec<&'a Value> {
    let mut cur = value;
    for key in within.split('.') {
        match cur.get(key) {
            Some(v) => cur = v,
            None => return Vec::new(),
        }
    }
    cur.as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn load_type_examples(dir: &Path, ty: &ResourceType) -> Result<TypeExamples, CatalogError> {
    let Some(ex) = ty.examples else {
        return Ok(TypeExamples::default());
    };
    let names = ex
        .put
        .iter()
        .copied()
        .chain([ex.patch, ex.get, ex.list, ex.delete].into_iter().flatten());
    let mut out = TypeExamples::default();
    let pick = |v: &Value| -> Vec<Value> {
        match ty.examples_within {
            Some(within) => descend(v, within).into_iter().cloned().collect(),
            None => vec![v.clone()],
        }
    };
    if let Some(delete) = ex.delete {
        let file = read_json(dir, &format!("{}/{delete}.json", ex.dir))?;
        if let Some(headers) = file
            .pointer("/responses/204/headers")
            .and_then(Value::as_object)
        {
            out.delete_204_headers = headers.keys().cloned().collect();
        }
    }
    for (i, name) in names.enumerate() {
        let file = read_json(dir, &format!("{}/{name}.json", ex.dir))?;
        let request = example_request_body(&file);
        let responses = example_response_bodies(&file);
        if let Some(req) = request {
            out.shapes.extend(pick(req));
        }
        for body in &responses {
            out.shapes.extend(pick(body));
        }
        if i == 0 {
            // The final state of the canonical create: 200 if shown, else 201.
            let resp = ["200", "201"]
                .iter()
                .find_map(|code| file.pointer(&format!("/responses/{code}/body")));
            if let (Some(req), Some(resp)) = (request, resp) {
                let (mut reqs, mut resps) = (pick(req), pick(resp));
                if !reqs.is_empty() && !resps.is_empty() {
                    out.create = Some((reqs.swap_remove(0), resps.swap_remove(0)));
                }
            }
        }
    }
    Ok(out)
}

/// The examples directory: `explicit` if given, else `$CAIRN_AZURE_EXAMPLES`, else the first
/// `shared/azure-rest-examples` found walking up from the current directory (it sits beside the
/// repository root).
pub fn find_examples_dir(explicit: Option<&Path>) -> Result<PathBuf, CatalogError> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os("CAIRN_AZURE_EXAMPLES") {
        return Ok(PathBuf::from(dir));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| CatalogError(format!("cannot read the current directory: {e}")))?;
    cwd.ancestors()
        .map(|a| a.join("shared").join("azure-rest-examples"))
        .find(|candidate| candidate.join("INDEX.md").is_file())
        .ok_or_else(|| {
            CatalogError(format!(
                "no shared/azure-rest-examples above {}; pass --examples DIR or set CAIRN_AZURE_EXAMPLES",
                cwd.display()
            ))
        })
}
