"""The allow-list: exactly which imports a model file may make without a finding, and why.

Every entry is an exact qualified name (module + attribute), never a package prefix: a trusted
package also holds functions that run shell commands or evaluate code
(``torch.utils.collect_env.run``, ``numpy.testing._private.utils.runstring``), and being in
``torch`` or ``sklearn`` does not make a name safe. Each line of :data:`_TABLE` is
``module: Name Name ... | why`` and the reason holds for every name on the line: the object
builds data (a value, a container, a tensor, an estimator whose state is a dict) and calls
nothing it was not handed, and whatever it is handed is itself an import that is judged.
Continuation lines start with whitespace. ``docs/modelfile-scanner.md`` explains the list.

What the list covers is what real checkpoints carry: tensor and array rebuild helpers, Python's
value types (numbers, dates, paths, namespaces, containers), the configuration objects of
training frameworks (Lightning's ``AttributeDict``, OmegaConf, fairseq meters), tokenizers and
the estimator classes of scikit-learn, XGBoost, LightGBM and CatBoost.
"""

from __future__ import annotations

_TORCH_DTYPES = (
    "float16 float32 float64 bfloat16 half float double complex32 complex64 complex128 "
    "cfloat cdouble uint8 uint16 uint32 uint64 int8 int16 int32 int64 short int long bool "
    "qint8 quint8 qint32 quint4x2 quint2x4 float8_e4m3fn float8_e5m2 float8_e4m3fnuz "
    "float8_e5m2fnuz bits8 bits16"
)
_TORCH_STORAGE_KINDS = (
    "Float Double Half BFloat16 Long Int Short Char Byte Bool ComplexFloat ComplexDouble "
    "QUInt8 QInt8 QInt32 QUInt4x2 QUInt2x4 Untyped Typed"
)
_TORCH_STORAGES = " ".join(f"{t}Storage" for t in _TORCH_STORAGE_KINDS.split())
_NUMPY_SCALARS = (
    "ndarray dtype bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 "
    "float64 float128 complex64 complex128 complex256 longlong ulonglong intc uintc int_ uint "
    "float_ double longdouble half single csingle cdouble clongdouble complex_ str_ bytes_ "
    "void object_ datetime64 timedelta64 intp uintp byte ubyte short ushort bool"
)
_NUMPY_DTYPE_KINDS = (
    "Bool Int8 Int16 Int32 Int64 UInt8 UInt16 UInt32 UInt64 Byte UByte Short UShort Int UInt "
    "Long ULong LongLong ULongLong Float16 Float32 Float64 LongDouble Complex64 Complex128 "
    "CLongDouble Object Bytes Str Void DateTime64 TimeDelta64 String"
)
_NUMPY_DTYPE_CLASSES = " ".join(f"{t}DType" for t in _NUMPY_DTYPE_KINDS.split())
_SK_LOSSES = (
    "HalfSquaredError AbsoluteError PinballLoss HuberLoss HalfPoissonLoss HalfGammaLoss "
    "HalfTweedieLoss HalfTweedieLossIdentity HalfBinomialLoss HalfMultinomialLoss ExponentialLoss"
)
_SK_CY_LOSSES = " ".join(f"Cy{n}" for n in _SK_LOSSES.split())
_SK_PYX = " ".join(f"__pyx_unpickle_Cy{n}" for n in _SK_LOSSES.split())

#: module: names | why. See the module docstring.
_TABLE = f"""
builtins: set frozenset slice range complex bytearray bytes object int float bool str list dict
    tuple Ellipsis NotImplemented | Python's value types: calling one builds a value from the
    plain arguments in the pickle
copyreg: _reconstructor __newobj__ __newobj_ex__ | how pickle itself recreates an instance of
    a class (cls.__new__, then state); the class is a separate import and judged
_codecs: encode | protocol 2 stores bytes as a latin-1 str; encode turns it back into bytes
collections: OrderedDict defaultdict Counter deque ChainMap UserDict UserList UserString |
    standard containers filled with the pickled items
datetime: datetime date time timedelta timezone | dates and times from numbers
decimal: Decimal | a decimal number from its digits
fractions: Fraction | a rational number from numerator and denominator
uuid: UUID SafeUUID | a UUID from its 128-bit integer
argparse: Namespace | command-line arguments (fairseq, many training scripts): sets attributes
types: SimpleNamespace | attributes from a dict
pathlib: PurePath PurePosixPath PureWindowsPath Path PosixPath WindowsPath | a path object
    built from its parts; nothing is read or written (methods such as write_text are not here)
pathlib._local: PurePath PurePosixPath PureWindowsPath Path PosixPath WindowsPath | the same
    classes where Python 3.13 defines them
array: array _array_reconstructor | a typed array from bytes
re: _compile | a compiled regular expression from its pattern and flags
typing: Any | the type marker OmegaConf stores in its node metadata; never called
torch._utils: _rebuild_tensor _rebuild_tensor_v2 _rebuild_tensor_v3 _rebuild_parameter
    _rebuild_parameter_with_state _rebuild_sparse_tensor _rebuild_sparse_csr_tensor
    _rebuild_qtensor _rebuild_device_tensor_from_numpy _rebuild_device_tensor_from_cpu_tensor
    _rebuild_meta_tensor_no_storage _rebuild_wrapper_subclass _rebuild_nested_tensor
    _rebuild_xla_tensor _rebuild_mlc_tensor | rebuild a tensor over a storage torch.load
    reads as raw bytes
torch: Size device dtype Tensor strided sparse_coo sparse_csr per_tensor_affine
    per_channel_affine per_tensor_symmetric contiguous_format channels_last channels_last_3d
    preserve_format memory_format layout finfo iinfo {_TORCH_DTYPES} {_TORCH_STORAGES} |
    tensor metadata: shapes, devices, dtypes, layouts and storage types
torch.cuda: {_TORCH_STORAGES} | storage types of tensors saved from a GPU
torch.storage: UntypedStorage TypedStorage | storage types of tensors (raw bytes)
torch.storage: _load_from_bytes | a nested torch.load of bytes stored in the pickle; those
    bytes are scanned as a pickle of their own
torch.nn.parameter: Parameter UninitializedParameter Buffer | a tensor marked as a parameter
torch._tensor: Tensor | the tensor class
torch._tensor: _rebuild_from_type_v2 | gives a rebuilt tensor its subclass; the rebuild function
    and the subclass are separate imports and judged
torch.serialization: _get_layout | looks a tensor layout up by its name among torch's layouts
torch.torch_version: TorchVersion | torch.__version__ as saved in checkpoint metadata (a str)
torch.jit._pickle: build_tensor_from_id build_intlist build_doublelist build_boollist
    build_tensorlist build_complexlist restore_type_tag | TorchScript's pickle helpers that
    build lists and tensors
torch.nn.modules.module: Module | the base module class: attributes restored from a dict
torch.nn.modules.container: Sequential ModuleList ModuleDict ParameterList ParameterDict |
    module containers
torch.nn.modules.linear: Identity Linear Bilinear LazyLinear | layers whose state is tensors
torch.nn.modules.conv: Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d
    LazyConv1d LazyConv2d LazyConv3d | layers whose state is tensors
torch.nn.modules.activation: Threshold ReLU RReLU Hardtanh ReLU6 Sigmoid Hardsigmoid Tanh SiLU
    Mish Hardswish ELU CELU SELU GLU GELU Hardshrink LeakyReLU LogSigmoid Softplus Softshrink
    MultiheadAttention PReLU Softsign Tanhshrink Softmin Softmax Softmax2d LogSoftmax |
    activation layers: numbers and tensors
torch.nn.modules.batchnorm: BatchNorm1d BatchNorm2d BatchNorm3d SyncBatchNorm LazyBatchNorm1d
    LazyBatchNorm2d LazyBatchNorm3d | normalisation layers: tensors and numbers
torch.nn.modules.instancenorm: InstanceNorm1d InstanceNorm2d InstanceNorm3d | normalisation
    layers: tensors and numbers
torch.nn.modules.normalization: LayerNorm GroupNorm LocalResponseNorm CrossMapLRN2d RMSNorm |
    normalisation layers: tensors and numbers
torch.nn.modules.dropout: Dropout Dropout1d Dropout2d Dropout3d AlphaDropout
    FeatureAlphaDropout | dropout layers: a probability
torch.nn.modules.pooling: MaxPool1d MaxPool2d MaxPool3d AvgPool1d AvgPool2d AvgPool3d
    AdaptiveAvgPool1d AdaptiveAvgPool2d AdaptiveAvgPool3d AdaptiveMaxPool1d AdaptiveMaxPool2d
    AdaptiveMaxPool3d LPPool1d LPPool2d FractionalMaxPool2d FractionalMaxPool3d MaxUnpool1d
    MaxUnpool2d MaxUnpool3d | pooling layers: sizes
torch.nn.modules.sparse: Embedding EmbeddingBag | embedding tables: tensors
torch.nn.modules.rnn: RNN LSTM GRU RNNCell LSTMCell GRUCell RNNBase RNNCellBase | recurrent
    layers: tensors and sizes
torch.nn.modules.transformer: Transformer TransformerEncoder TransformerDecoder
    TransformerEncoderLayer TransformerDecoderLayer | transformer blocks made of the layers
    above
torch.nn.modules.flatten: Flatten Unflatten | reshaping layers: sizes
torch.nn.modules.padding: ZeroPad1d ZeroPad2d ZeroPad3d ConstantPad1d ConstantPad2d
    ConstantPad3d ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d
    ReplicationPad2d ReplicationPad3d CircularPad1d CircularPad2d CircularPad3d | padding
    layers: sizes
torch.nn.modules.upsampling: Upsample UpsamplingNearest2d UpsamplingBilinear2d | resizing
    layers: sizes and a mode name
torch.nn.modules.pixelshuffle: PixelShuffle PixelUnshuffle | reshaping layers: a factor
torch.nn.modules.channelshuffle: ChannelShuffle | a reshaping layer: a group count
torch.nn.modules.distance: PairwiseDistance CosineSimilarity | distance layers: numbers
torch.nn.modules.fold: Fold Unfold | patch layers: sizes
torch.nn.modules.loss: L1Loss MSELoss CrossEntropyLoss NLLLoss BCELoss BCEWithLogitsLoss
    HuberLoss SmoothL1Loss KLDivLoss CTCLoss PoissonNLLLoss GaussianNLLLoss HingeEmbeddingLoss
    MultiLabelMarginLoss SoftMarginLoss MultiLabelSoftMarginLoss CosineEmbeddingLoss
    MarginRankingLoss MultiMarginLoss TripletMarginLoss TripletMarginWithDistanceLoss | loss
    modules: weights and a reduction name
numpy: {_NUMPY_SCALARS} | the array class, dtypes and scalar types
numpy.dtypes: {_NUMPY_DTYPE_CLASSES} | NumPy 1.25+ dtype classes
numpy.core.multiarray: _reconstruct scalar | rebuild an array or a scalar from dtype and bytes
numpy._core.multiarray: _reconstruct scalar | rebuild an array or a scalar (NumPy 2 names)
numpy.core.numeric: _frombuffer | an array from bytes (pandas uses it)
numpy._core.numeric: _frombuffer | an array from bytes (NumPy 2 names)
numpy.ma.core: _mareconstruct MaskedArray MaskedConstant | masked arrays from arrays
numpy.random._pickle: __randomstate_ctor __bit_generator_ctor __generator_ctor | random
    generators rebuilt from their saved state; the bit generator class is a separate import
numpy.random.mtrand: RandomState | a random generator and its state
numpy.random._generator: Generator | a random generator and its state
numpy.random._mt19937: MT19937 | a bit generator and its state
numpy.random._pcg64: PCG64 PCG64DXSM | bit generators and their state
numpy.random._philox: Philox | a bit generator and its state
numpy.random._sfc64: SFC64 | a bit generator and its state
numpy.random.bit_generator: SeedSequence __pyx_unpickle_SeedSequence | a seed sequence and its
    Cython state restorer (checks the layout, then fills in the fields)
joblib.numpy_pickle: NumpyArrayWrapper | joblib's array header; the array bytes follow it and
    are skipped (object arrays are nested pickles and scanned)
sklearn.externals.joblib.numpy_pickle: NumpyArrayWrapper | joblib's array header (old
    scikit-learn's vendored joblib)
pandas.core.frame: DataFrame | a data frame: a block manager and its axes
pandas.core.series: Series | a series: values and an index
pandas.core.internals.managers: BlockManager SingleBlockManager | pandas' storage of arrays
pandas.core.internals.blocks: Block NumpyBlock ObjectBlock ExtensionBlock DatetimeTZBlock |
    pandas' blocks of arrays
pandas._libs.internals: _unpickle_block | a block from an array and its placement
pandas.core.indexes.base: _new_Index Index | an index from its values; the index class is a
    separate import
pandas.core.indexes.range: RangeIndex | a range index: start, stop, step
pandas.core.indexes.multi: MultiIndex | an index from levels and codes
pandas.core.indexes.datetimes: DatetimeIndex _new_DatetimeIndex | a date index from values
pandas.core.indexes.numeric: Int64Index Float64Index UInt64Index | old pandas number indexes
pandas.core.arrays.categorical: Categorical | categories and codes
pandas.core.dtypes.dtypes: CategoricalDtype DatetimeTZDtype | dtype descriptions
pandas._libs.tslibs.timestamps: _unpickle_timestamp Timestamp | a timestamp from numbers
pandas._libs.tslibs.timedeltas: _timedelta_unpickle Timedelta | a time delta from numbers
pandas._libs.tslibs.nattype: __nat_unpickle | the not-a-time constant
scipy.sparse._csr: csr_matrix csr_array | sparse matrices: index and value arrays
scipy.sparse._csc: csc_matrix csc_array | sparse matrices: index and value arrays
scipy.sparse._coo: coo_matrix coo_array | sparse matrices: index and value arrays
scipy.sparse._lil: lil_matrix lil_array | sparse matrices: lists of values
scipy.sparse._dok: dok_matrix dok_array | sparse matrices: a dict of values
scipy.sparse._bsr: bsr_matrix bsr_array | sparse matrices: index and value arrays
scipy.sparse._dia: dia_matrix dia_array | sparse matrices: offsets and value arrays
scipy.sparse.csr: csr_matrix | a sparse matrix (old SciPy path)
scipy.sparse.csc: csc_matrix | a sparse matrix (old SciPy path)
scipy.sparse.coo: coo_matrix | a sparse matrix (old SciPy path)
omegaconf.dictconfig: DictConfig | OmegaConf (Hydra, Lightning, fairseq) configs: nodes and
    metadata restored from a dict
omegaconf.listconfig: ListConfig | OmegaConf list configs
omegaconf.base: ContainerMetadata Metadata | OmegaConf node metadata
omegaconf.nodes: AnyNode StringNode IntegerNode FloatNode BooleanNode BytesNode PathNode
    EnumNode | OmegaConf value nodes
lightning.fabric.utilities.data: AttributeDict | Lightning's hyper-parameter dict (a dict with
    attribute access)
lightning_fabric.utilities.data: AttributeDict | Lightning's hyper-parameter dict (lightning_fabric)
lightning.pytorch.utilities.parsing: AttributeDict | Lightning's hyper-parameter dict (older path)
pytorch_lightning.utilities.parsing: AttributeDict | Lightning's hyper-parameter dict
    (pytorch_lightning)
fairseq.logging.meters: AverageMeter TimeMeter StopwatchMeter MetersDict SumMeter
    ConcatTensorMeter | fairseq's training meters: numbers in a dict
fairseq.meters: AverageMeter TimeMeter StopwatchMeter | fairseq's training meters (old path)
tokenizers: Tokenizer AddedToken | a Hugging Face tokenizer restored from its JSON state
tokenizers.models: BPE WordPiece WordLevel Unigram Model | tokenizer models: vocabularies
sklearn.pipeline: Pipeline FeatureUnion | lists of named estimators
sklearn.compose._column_transformer: ColumnTransformer | named transformers and columns
sklearn.compose._target: TransformedTargetRegressor | a regressor and a transformer
sklearn.linear_model._base: LinearRegression | coefficients
sklearn.linear_model._logistic: LogisticRegression LogisticRegressionCV | coefficients
sklearn.linear_model._ridge: Ridge RidgeCV RidgeClassifier RidgeClassifierCV | coefficients
sklearn.linear_model._coordinate_descent: Lasso LassoCV ElasticNet ElasticNetCV MultiTaskLasso
    MultiTaskLassoCV MultiTaskElasticNet MultiTaskElasticNetCV | coefficients
sklearn.linear_model._least_angle: Lars LarsCV LassoLars LassoLarsCV LassoLarsIC | coefficients
sklearn.linear_model._omp: OrthogonalMatchingPursuit OrthogonalMatchingPursuitCV | coefficients
sklearn.linear_model._bayes: BayesianRidge ARDRegression | coefficients
sklearn.linear_model._stochastic_gradient: SGDClassifier SGDRegressor SGDOneClassSVM |
    coefficients
sklearn.linear_model._perceptron: Perceptron | coefficients
sklearn.linear_model._passive_aggressive: PassiveAggressiveClassifier
    PassiveAggressiveRegressor | coefficients
sklearn.linear_model._huber: HuberRegressor | coefficients
sklearn.linear_model._ransac: RANSACRegressor | an estimator and its inlier mask
sklearn.linear_model._theil_sen: TheilSenRegressor | coefficients
sklearn.linear_model._quantile: QuantileRegressor | coefficients
sklearn.linear_model._glm.glm: PoissonRegressor GammaRegressor TweedieRegressor | coefficients
sklearn.tree._classes: DecisionTreeClassifier DecisionTreeRegressor ExtraTreeClassifier
    ExtraTreeRegressor | a fitted tree and its parameters
sklearn.tree._tree: Tree | the tree's node arrays (rebuilt by its constructor from sizes)
sklearn.ensemble._forest: RandomForestClassifier RandomForestRegressor ExtraTreesClassifier
    ExtraTreesRegressor RandomTreesEmbedding | lists of trees
sklearn.ensemble._gb: GradientBoostingClassifier GradientBoostingRegressor | arrays of trees
sklearn.ensemble._hist_gradient_boosting.gradient_boosting: HistGradientBoostingClassifier
    HistGradientBoostingRegressor | lists of tree predictors
sklearn.ensemble._hist_gradient_boosting.predictor: TreePredictor | node arrays
sklearn.ensemble._hist_gradient_boosting.binning: _BinMapper | bin thresholds
sklearn.ensemble._bagging: BaggingClassifier BaggingRegressor | lists of estimators
sklearn.ensemble._weight_boosting: AdaBoostClassifier AdaBoostRegressor | estimators, weights
sklearn.ensemble._voting: VotingClassifier VotingRegressor | lists of estimators
sklearn.ensemble._stacking: StackingClassifier StackingRegressor | lists of estimators
sklearn.ensemble._iforest: IsolationForest | lists of trees
sklearn._loss.loss: {_SK_LOSSES} | loss descriptions used by fitted estimators
sklearn._loss._loss: {_SK_CY_LOSSES} {_SK_PYX} | the Cython loss objects and their state
    restorers (check the layout, then fill in the fields)
sklearn._loss.link: IdentityLink LogLink LogitLink HalfLogitLink MultinomialLogit Interval |
    link functions of losses: numbers
sklearn.preprocessing._data: StandardScaler MinMaxScaler MaxAbsScaler RobustScaler Normalizer
    Binarizer QuantileTransformer PowerTransformer KernelCenterer | fitted statistics
sklearn.preprocessing._encoders: OneHotEncoder OrdinalEncoder | fitted categories
sklearn.preprocessing._label: LabelEncoder LabelBinarizer MultiLabelBinarizer | fitted classes
sklearn.preprocessing._polynomial: PolynomialFeatures SplineTransformer | fitted sizes, knots
sklearn.preprocessing._discretization: KBinsDiscretizer | fitted bin edges
sklearn.preprocessing._function_transformer: FunctionTransformer | holds functions, which are
    separate imports and judged
sklearn.preprocessing._target_encoder: TargetEncoder | fitted encodings
sklearn.impute._base: SimpleImputer MissingIndicator | fitted statistics
sklearn.impute._knn: KNNImputer | fitted data
sklearn.impute._iterative: IterativeImputer | fitted estimators
sklearn.feature_extraction.text: CountVectorizer TfidfVectorizer TfidfTransformer
    HashingVectorizer | vocabularies and weights (custom tokenizers are separate imports)
sklearn.feature_extraction._dict_vectorizer: DictVectorizer | a vocabulary
sklearn.feature_extraction._hash: FeatureHasher | sizes
sklearn.feature_selection._univariate_selection: SelectKBest SelectPercentile
    GenericUnivariateSelect SelectFpr SelectFdr SelectFwe | fitted scores
sklearn.feature_selection._univariate_selection: f_classif f_regression chi2 r_regression |
    numeric scoring functions the selectors above keep a reference to
sklearn.feature_selection._mutual_info: mutual_info_classif mutual_info_regression | numeric
    scoring functions the selectors above keep a reference to
sklearn.feature_selection._variance_threshold: VarianceThreshold | fitted variances
sklearn.feature_selection._rfe: RFE RFECV | an estimator and a support mask
sklearn.feature_selection._from_model: SelectFromModel | an estimator and a threshold
sklearn.feature_selection._sequential: SequentialFeatureSelector | an estimator and a mask
sklearn.svm._classes: SVC SVR LinearSVC LinearSVR NuSVC NuSVR OneClassSVM | support vectors
sklearn.neighbors._classification: KNeighborsClassifier RadiusNeighborsClassifier | fitted data
sklearn.neighbors._regression: KNeighborsRegressor RadiusNeighborsRegressor | fitted data
sklearn.neighbors._unsupervised: NearestNeighbors | fitted data
sklearn.neighbors._kde: KernelDensity | fitted data
sklearn.neighbors._lof: LocalOutlierFactor | fitted data
sklearn.neighbors._nearest_centroid: NearestCentroid | centroids
sklearn.neighbors._nca: NeighborhoodComponentsAnalysis | a fitted matrix
sklearn.neighbors._kd_tree: KDTree KDTree64 KDTree32 newObj | search trees: arrays; newObj
    only calls the tree class's __new__
sklearn.neighbors._ball_tree: BallTree BallTree64 BallTree32 newObj | search trees: arrays;
    newObj only calls the tree class's __new__
sklearn.metrics._dist_metrics: newObj DistanceMetric DistanceMetric64 EuclideanDistance
    EuclideanDistance64 SEuclideanDistance SEuclideanDistance64 ManhattanDistance
    ManhattanDistance64 ChebyshevDistance ChebyshevDistance64 MinkowskiDistance
    MinkowskiDistance64 MahalanobisDistance MahalanobisDistance64 HammingDistance
    HammingDistance64 CanberraDistance CanberraDistance64 BrayCurtisDistance
    BrayCurtisDistance64 JaccardDistance JaccardDistance64 HaversineDistance HaversineDistance64
    | distance metrics of the search trees: parameters
sklearn.naive_bayes: GaussianNB MultinomialNB BernoulliNB ComplementNB CategoricalNB | fitted
    counts and statistics
sklearn.cluster._kmeans: KMeans MiniBatchKMeans | centroids
sklearn.cluster._dbscan: DBSCAN | fitted labels
sklearn.cluster._agglomerative: AgglomerativeClustering FeatureAgglomeration | fitted labels
sklearn.cluster._birch: Birch _CFNode _CFSubcluster | a fitted tree of subclusters
sklearn.cluster._mean_shift: MeanShift | centroids
sklearn.cluster._spectral: SpectralClustering | fitted labels
sklearn.cluster._affinity_propagation: AffinityPropagation | fitted exemplars
sklearn.cluster._optics: OPTICS | fitted orderings
sklearn.cluster._bisect_k_means: BisectingKMeans | centroids
sklearn.cluster._hdbscan.hdbscan: HDBSCAN | fitted labels
sklearn.decomposition._pca: PCA | components
sklearn.decomposition._incremental_pca: IncrementalPCA | components
sklearn.decomposition._truncated_svd: TruncatedSVD | components
sklearn.decomposition._nmf: NMF MiniBatchNMF | components
sklearn.decomposition._fastica: FastICA | components
sklearn.decomposition._kernel_pca: KernelPCA | components
sklearn.decomposition._lda: LatentDirichletAllocation | components
sklearn.decomposition._factor_analysis: FactorAnalysis | components
sklearn.decomposition._sparse_pca: SparsePCA MiniBatchSparsePCA | components
sklearn.decomposition._dict_learning: DictionaryLearning MiniBatchDictionaryLearning
    SparseCoder | components
sklearn.neural_network._multilayer_perceptron: MLPClassifier MLPRegressor | weight arrays
sklearn.neural_network._rbm: BernoulliRBM | weight arrays
sklearn.neural_network._stochastic_optimizers: SGDOptimizer AdamOptimizer | optimizer state
sklearn.calibration: CalibratedClassifierCV _CalibratedClassifier _SigmoidCalibration | an
    estimator and calibration parameters
sklearn.isotonic: IsotonicRegression | fitted thresholds
sklearn.model_selection._search: GridSearchCV RandomizedSearchCV | the best estimator, results
sklearn.model_selection._split: KFold StratifiedKFold GroupKFold ShuffleSplit
    StratifiedShuffleSplit TimeSeriesSplit RepeatedKFold RepeatedStratifiedKFold | fold sizes
sklearn.multiclass: OneVsRestClassifier OneVsOneClassifier OutputCodeClassifier | estimators
sklearn.multioutput: MultiOutputClassifier MultiOutputRegressor ClassifierChain RegressorChain
    | lists of estimators
sklearn.dummy: DummyClassifier DummyRegressor | a constant or class priors
sklearn.kernel_ridge: KernelRidge | coefficients
sklearn.discriminant_analysis: LinearDiscriminantAnalysis QuadraticDiscriminantAnalysis |
    fitted means and covariances
sklearn.gaussian_process._gpc: GaussianProcessClassifier | fitted data and a kernel
sklearn.gaussian_process._gpr: GaussianProcessRegressor | fitted data and a kernel
sklearn.gaussian_process.kernels: RBF ConstantKernel WhiteKernel Matern DotProduct
    RationalQuadratic ExpSineSquared Sum Product Exponentiation Hyperparameter | kernel
    parameters
sklearn.mixture._gaussian_mixture: GaussianMixture | means, covariances, weights
sklearn.mixture._bayesian_mixture: BayesianGaussianMixture | means, covariances, weights
sklearn.manifold._t_sne: TSNE | an embedding
sklearn.manifold._isomap: Isomap | an embedding
sklearn.covariance._empirical_covariance: EmpiricalCovariance | a covariance matrix
sklearn.covariance._robust_covariance: MinCovDet | a covariance matrix
sklearn.covariance._elliptic_envelope: EllipticEnvelope | a covariance matrix
sklearn.covariance._shrunk_covariance: LedoitWolf OAS ShrunkCovariance | a covariance matrix
sklearn.random_projection: GaussianRandomProjection SparseRandomProjection | a matrix
sklearn.kernel_approximation: RBFSampler Nystroem AdditiveChi2Sampler SkewedChi2Sampler
    PolynomialCountSketch | fitted matrices
sklearn.cross_decomposition._pls: PLSRegression PLSCanonical CCA PLSSVD | fitted matrices
sklearn.semi_supervised._label_propagation: LabelPropagation LabelSpreading | fitted labels
sklearn.semi_supervised._self_training: SelfTrainingClassifier | an estimator
sklearn.utils._bunch: Bunch | a dict with attribute access
xgboost.sklearn: XGBClassifier XGBRegressor XGBRanker XGBRFClassifier XGBRFRegressor | an
    XGBoost model: parameters and the booster's saved bytes
xgboost.core: Booster | a booster restored from its saved bytes
lightgbm.sklearn: LGBMClassifier LGBMRegressor LGBMRanker | a LightGBM model: parameters and
    the booster's model string
lightgbm.basic: Booster | a booster restored from its model string
catboost.core: CatBoostClassifier CatBoostRegressor CatBoostRanker CatBoost | a CatBoost
    model: parameters and the model's saved bytes
"""


#: Estimator packages: the reason on each line says what the object holds; this says why that
#: is safe (unpickling sets its attributes from a dict, or calls a constructor with sizes).
_ESTIMATORS = {
    "sklearn.": "a scikit-learn object",
    "xgboost.": "an XGBoost model",
    "lightgbm.": "a LightGBM model",
    "catboost.": "a CatBoost model",
}


def _parse(table: str) -> dict[str, dict[str, str]]:
    """module -> {name: why} from :data:`_TABLE`."""
    out: dict[str, dict[str, str]] = {}
    entries: list[str] = []
    for line in table.splitlines():
        if not line.strip():
            continue
        if line[:1].isspace() and entries:
            entries[-1] += " " + line.strip()
        else:
            entries.append(line.strip())
    for entry in entries:
        head, _, why = entry.partition("|")
        module, _, names = head.partition(":")
        if not why.strip() or not names.split():
            raise ValueError(f"allow-list entry without names or reason: {entry[:60]}")
        module = module.strip()
        reason = why.strip()
        for prefix, kind in _ESTIMATORS.items():
            if module.startswith(prefix):
                reason = (
                    f"{kind} rebuilt from its saved state (calls none of its methods): {reason}"
                )
        bucket = out.setdefault(module, {})
        for name in names.split():
            bucket[name] = reason
    return out


#: module -> {name: why}: exactly these imports are safe.
SAFE: dict[str, dict[str, str]] = _parse(_TABLE)


def why_safe(module: str, name: str) -> str | None:
    """The reason ``module.name`` is allowed, or None when it is not on the list."""
    names = SAFE.get(module)
    return None if names is None else names.get(name)


def entries() -> list[tuple[str, str, str]]:
    """Every allow-listed (module, name, why), sorted (for the documentation and tests)."""
    return sorted((m, n, w) for m, names in SAFE.items() for n, w in names.items())
