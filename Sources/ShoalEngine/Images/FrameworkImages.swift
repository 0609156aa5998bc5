/// SageMaker's own framework images and the PyPI packages that stand in for
/// them: the image tag's framework version picks the framework's release and
/// the pandas, NumPy and SciPy it was built against, pinned, for the
/// interpreter environments are made from (Python 3.11 on Debian 12).
public enum FrameworkImages {
    public enum Framework: String, Codable, Sendable {
        case sklearn, xgboost, pytorch
    }

    public struct Unknown: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static let defaults: [ImageMap.Mapping] = [
        .init(pattern: "*/sagemaker-scikit-learn[:@]*", runtime: .python, framework: .sklearn, source: "default"),
        .init(pattern: "*/sagemaker-xgboost[:@]*", runtime: .python, framework: .xgboost, source: "default"),
        .init(pattern: "*/pytorch-training[:@]*", runtime: .python, framework: .pytorch, source: "default"),
        .init(pattern: "*/pytorch-inference[:@]*", runtime: .python, framework: .pytorch, source: "default"),
        // Docker's official Python images: Python and nothing else.
        .init(pattern: "python:*", runtime: .python, requirements: [], source: "default"),
        .init(pattern: "docker.io/library/python:*", runtime: .python, requirements: [], source: "default"),
        .init(pattern: "public.ecr.aws/docker/library/python:*", runtime: .python, requirements: [], source: "default"),
    ]

    /// The scientific stack a framework release was built against.
    private static let stack2023 = ["numpy==1.24.4", "scipy==1.10.1", "pandas==1.5.3"]
    private static let stack2024 = ["numpy==1.26.4", "scipy==1.13.1", "pandas==2.2.2"]

    private static let sklearn: [String: [String]] = [
        "0.20": ["scikit-learn==0.20.4"] + stack2023,
        "0.23": ["scikit-learn==0.23.2"] + stack2023,
        "1.0": ["scikit-learn==1.0.2"] + stack2023,
        "1.2": ["scikit-learn==1.2.2"] + stack2023,
        "1.4": ["scikit-learn==1.4.2"] + stack2024,
    ]
    private static let xgboost: [String: [String]] = [
        "1.5": ["xgboost==1.5.2", "scikit-learn==1.2.2"] + stack2023,
        "1.7": ["xgboost==1.7.6", "scikit-learn==1.2.2"] + stack2023,
        "2.0": ["xgboost==2.0.3", "scikit-learn==1.4.2"] + stack2024,
    ]

    /// The requirement lines for `image` (`…/sagemaker-scikit-learn:1.2-1-cpu-py3`,
    /// `…/pytorch-training:2.0.1-cpu-py310`).
    public static func requirements(_ framework: Framework, image: String) throws(Unknown) -> [String] {
        guard let colon = image.lastIndex(of: ":"), !image[colon...].contains("/"), !image.contains("@") else {
            throw Unknown(description: "the image '\(image)' has no tag, so its framework version is unknown; name a tag (as SageMaker's image_uris.retrieve does) or map the image with shoal images map")
        }
        let tag = image[image.index(after: colon)...]
        let version = String(tag.split(separator: "-").first ?? "")
        let release = version.split(separator: ".").prefix(2).joined(separator: ".")
        guard release.split(separator: ".").count == 2, release.allSatisfy({ $0.isNumber || $0 == "." }) else {
            throw Unknown(description: "the image '\(image)': cannot read a framework version from its tag '\(tag)'")
        }
        switch framework {
        case .sklearn:
            return sklearn[release] ?? ["scikit-learn==\(release).*"] + stack2024
        case .xgboost:
            return xgboost[release] ?? ["xgboost==\(release).*", "scikit-learn==1.4.2"] + stack2024
        case .pytorch:
            // The CPU builds: PyPI's default torch carries CUDA, gigabytes of it.
            let full = version.split(separator: ".").count == 2 ? version + ".0" : version
            return ["--extra-index-url https://download.pytorch.org/whl/cpu", "torch==\(full)+cpu", "numpy==1.26.4"]
        }
    }
}
