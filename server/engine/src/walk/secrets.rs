//! The names of files that commonly hold secrets: the walker leaves them
//! out unless the user's own `include` names one literally (SECURITY.md).

/// Whether a workspace-relative path names a file that commonly holds
/// secrets: environment files (`.env`, `.env.local`, `prod.env`, `.envrc`),
/// private keys and certificates (`*.pem`, `*.key`, `id_rsa`, `*.p12`,
/// `*.pfx`, `*.jks`, `*.ppk`, `*.p8`, `*.asc`, `*.gpg`), credential stores
/// (`.netrc`, `.git-credentials`, `.pgpass`, `.npmrc`, `.pypirc`,
/// `htpasswd`, `credentials` files), cloud and cluster credentials
/// (`kubeconfig`, service-account and OAuth client secret files), secret
/// manifests (`secrets.yaml`) and Terraform variables and state.
pub fn looks_secret(rel_path: &str) -> bool {
    let name = rel_path
        .rsplit('/')
        .next()
        .unwrap_or(rel_path)
        .to_lowercase();
    let ssh_keys = ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"];
    let names = [
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".pgpass",
        ".npmrc",
        ".yarnrc.yml",
        ".pypirc",
        ".htpasswd",
        "htpasswd",
        ".envrc",
        ".vault-token",
        "credentials",
        "credentials.json",
        "credentials.yaml",
        "credentials.yml",
        "kubeconfig",
        "terraform.tfvars",
        "token.json",
    ];
    let extensions = [
        ".env",
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".ppk",
        ".p8",
        ".asc",
        ".gpg",
        ".kdbx",
        ".tfvars",
        ".tfstate",
        ".tfstate.backup",
        ".kubeconfig",
    ];
    // `secrets.yaml`, `secret.json`, `app-secrets.toml`: a name whose stem
    // says so, in a data format (not `secrets.py`, which is code).
    let data = [".yaml", ".yml", ".json", ".toml", ".ini", ".txt", ".conf"];
    let stem_says_secret = data.iter().any(|ext| {
        name.strip_suffix(ext).is_some_and(|stem| {
            stem == "secret"
                || stem == "secrets"
                || stem.ends_with("-secrets")
                || stem.ends_with("_secrets")
                || stem.ends_with(".secrets")
        })
    });
    let cloud = name.ends_with(".json")
        && (name.starts_with("client_secret")
            || name.contains("service-account")
            || name.contains("service_account")
            || name.contains("serviceaccount"));
    name == ".env"
        || name.starts_with(".env.")
        || ssh_keys.iter().any(|k| name.starts_with(k))
        || names.contains(&name.as_str())
        || extensions.iter().any(|e| name.ends_with(e))
        || stem_says_secret
        || cloud
}
