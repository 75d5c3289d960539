"""Skill vocabulary and skill spotting for the local resume analyzer.

Contract:
- ``normalize_text`` folds case, applies Unicode NFKC, strips accents and unifies dashes and
  quotes; ``tokenize`` splits normalised text into tokens that keep the punctuation skills need
  (``c++``, ``c#``, ``.net``, ``node.js``, and ``/`` / ``&`` as tokens of their own so ``ci/cd``
  and ``a/b testing`` can be matched as phrases). Hyphens separate tokens, so ``machine-learning``
  and ``machine learning`` tokenize the same.
- ``find_skills`` maps a token sequence to canonical skill names, longest phrase first.
  Short or ambiguous aliases ("c", "r", "go", "spring", "excel"...) only count in a context that
  makes them a skill: next to another technical skill, after "programming languages", or
  not followed/preceded by the words that make them ordinary English.
- Canonical names are lower case (``"machine learning"``, ``"c++"``); ``display_name`` gives
  the human spelling (``"Machine Learning"``, ``"C++"``).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

# --- Normalisation and tokens ---------------------------------------------------------------

_CID_RE = re.compile(r"\(cid:\d+\)")
_CHAR_MAP = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        "\u00ad": "",  # soft hyphen: PDF extractors leave it inside words
        "\u00a0": " ",
    }
)
# Tokens: words/numbers, optionally with internal dots (node.js, 3.8, b.s), a leading dot when
# not glued to a previous word (.net), trailing + or # (c++, c#, 5+); "/" and "&" stand alone.
_TOKEN_RE = re.compile(r"(?<![a-z0-9])\.?[a-z0-9]+(?:\.[a-z0-9]+)*[+#]*|[/&]")


def normalize_text(text: str) -> str:
    """Case-folded, NFKC, accent-free text with unified dashes/quotes; PDF ``(cid:N)`` removed."""
    text = unicodedata.normalize("NFKC", text)
    text = _CID_RE.sub(" ", text).translate(_CHAR_MAP).casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def tokenize(normalized: str) -> list[str]:
    """Tokens of already-normalised text. Apostrophes are dropped ("you'll" -> "youll")."""
    return _TOKEN_RE.findall(normalized.replace("'", ""))


# --- Vocabulary -----------------------------------------------------------------------------
# category -> {Display Name: aliases}. The canonical name is the display name lower-cased; it
# always matches itself. Aliases are written naturally and tokenized like any text, so
# "scikit-learn" also matches "scikit learn". Multi-word aliases also match with a plural last
# word ("rest api" matches "rest apis"). Spanish variants are written without accents because
# matching happens on accent-stripped text.

_CATALOGUE: dict[str, dict[str, tuple[str, ...]]] = {
    "programming": {
        "Python": ("python3", "python 3", "python2"),
        "Java": ("java 8", "java se", "core java"),
        "JavaScript": ("js", "ecmascript", "es6", "vanilla js", "vanilla javascript"),
        "TypeScript": (),
        "C": ("c language", "c programming", "ansi c", "programming in c"),
        "C++": ("cpp", "c plus plus"),
        "C#": ("c sharp", "csharp"),
        "Go": ("golang", "go language", "go programming"),
        "Rust": ("rust lang", "rustlang"),
        "Ruby": (),
        "PHP": ("core php", "php7", "php 7", "php8"),
        "Kotlin": (),
        "Swift": ("swiftui",),
        "Objective-C": ("objective c", "objc"),
        "Scala": (),
        "R": ("r programming", "r language", "rstudio", "r studio", "tidyverse"),
        "MATLAB": (),
        "Perl": (),
        "Shell Scripting": ("bash", "shell script", "shell scripts", "bash scripting", "zsh", "unix shell"),
        "PowerShell": ("power shell",),
        "Dart": (),
        "Elixir": (),
        "Erlang": (),
        "Haskell": (),
        "Clojure": (),
        "OCaml": (),
        "F#": ("fsharp",),
        "Lua": (),
        "Julia": (),
        "Fortran": (),
        "COBOL": (),
        "Assembly": ("assembly language", "x86 assembly", "arm assembly"),
        "VBA": ("visual basic", "visual basic for applications", "vb.net", "vb6", "excel macros", "macros"),
        "Apps Script": ("appscript", "app script", "google apps script", "appsscript"),
        "SQL": ("structured query language", "sql coding", "t-sql", "tsql", "ansi sql"),
        "PL/SQL": ("plsql", "pl sql", "oracle pl/sql"),
        "Solidity": (),
        "Groovy": (),
        "Software Engineering": (
            "software development", "software engineer", "desarrollo de software", "software developer",
            "sdlc", "software development life cycle", "ingenieria de software", "software engineering",
        ),
        "Programming": (
            "coding", "scripting", "programming skills", "computer programming", "scripting and programming",
            "programacion",
        ),
        "Object-Oriented Programming": (
            "oop", "oops", "object oriented programming", "object-oriented design", "oo design",
            "ood", "object oriented", "programacion orientada a objetos", "oops concept",
        ),
        "Functional Programming": ("programacion funcional",),
        "Data Structures and Algorithms": (
            "data structures", "algorithms and data structures", "estructuras de datos", "dsa",
        ),
        "Design Patterns": ("design pattern", "architectural patterns", "patrones de diseno"),
        "Async Programming": ("asyncio", "asynchronous programming", "async/await", "async programming"),
        "Concurrency": ("multithreading", "multi-threading", "multi-process", "multiprocessing", "threading"),
    },
    "web": {
        "HTML": ("html5", "html 5", "xhtml"),
        "CSS": ("css3", "css 3", "css-in-js", "css in js"),
        "Sass": ("scss",),
        "Tailwind CSS": ("tailwind", "tailwindcss"),
        "Bootstrap": ("twitter bootstrap",),
        "React": ("react.js", "reactjs", "react js", "react hooks"),
        "Angular": ("angularjs", "angular.js", "angular js"),
        "Vue.js": ("vue", "vuejs", "vue js", "vue.js"),
        "Next.js": ("nextjs", "next js"),
        "Nuxt.js": ("nuxt", "nuxtjs"),
        "Svelte": ("sveltekit",),
        "jQuery": ("jquery ui",),
        "Redux": (),
        "Webpack": (),
        "Vite": (),
        "Backbone.js": ("backbone", "backbonejs"),
        "Ember.js": ("emberjs", "ember"),
        "Node.js": ("nodejs", "node js", "node"),
        "Express.js": ("expressjs", "express js", "express"),
        "GraphQL": ("apollo graphql",),
        "REST API": (
            "rest", "restful", "restful api", "rest api", "rest apis", "restful services",
            "rest services", "api rest", "apis rest", "restful web services", "rest architecture",
        ),
        "WebSockets": ("websocket", "web sockets", "web socket"),
        "AJAX": (),
        "XML": ("xslt",),
        "JSON": (),
        "SOAP": ("soap api", "soap web services"),
        "gRPC": ("grpc", "protobuf", "protocol buffers"),
        "Web Services": ("web service", "servicios web"),
        "Web Accessibility": ("accessibility", "wcag", "a11y", "accesibilidad", "screen-reader", "screen reader"),
        "Responsive Design": ("responsive web design", "mobile responsive", "diseno responsive", "responsive"),
        "Web Performance": ("core web vitals", "web vitals", "website performance optimization"),
        "SEO": ("search engine optimization", "search engine optimisation", "posicionamiento web"),
        "WordPress": ("word press",),
        "Drupal": (),
        "Laravel": (),
        "CodeIgniter": ("code igniter",),
        "Symfony": (),
        "Django": (),
        "Django REST Framework": ("drf", "djangorestframework", "django rest"),
        "Flask": (),
        "FastAPI": ("fast api",),
        "Spring": ("spring framework", "spring mvc"),
        "Spring Boot": ("springboot",),
        "Hibernate": ("jpa",),
        "J2EE": ("java ee", "jakarta ee", "jee"),
        ".NET": ("dotnet", "asp.net", "asp.net core", ".net core", ".net framework", "dot net"),
        "Ruby on Rails": ("rails", "ror"),
        "Jinja": ("jinja2",),
        "Storybook": (),
        "WebGL": (),
        "Three.js": ("threejs",),
        "Frontend Development": (
            "front end", "front-end development", "frontend", "front end development", "desarrollo frontend",
        ),
        "Backend Development": (
            "back end", "back-end development", "backend", "backend development", "server-side",
            "desarrollo backend",
        ),
        "Full-Stack Development": ("full stack", "fullstack", "full-stack developer", "full stack developer"),
        "Web Development": ("web programming", "desarrollo web", "web application development", "web applications"),
        "Microservices": (
            "microservice", "micro services", "microservices architecture", "microservicios",
        ),
        "Distributed Systems": ("distributed system", "distributed computing", "sistemas distribuidos"),
        "System Design": ("systems design", "system architecture", "software architecture", "arquitectura de software"),
        "Event-Driven Architecture": (
            "event driven", "event-driven programming", "event-driven messaging", "event driven systems",
            "event-driven systems",
        ),
        "API Design": ("api integrations", "api development", "third-party apis", "third party apis"),
    },
    "testing": {
        "Unit Testing": ("unit tests", "unit test", "pruebas unitarias", "unit/perf/e2e"),
        "Test Automation": ("automated testing", "automation testing", "pruebas automatizadas", "automated tests"),
        "End-to-End Testing": ("e2e testing", "end to end testing", "end-to-end tests", "e2e tests"),
        "TDD": ("test driven development", "test-driven development"),
        "QA": ("quality assurance", "software testing", "aseguramiento de calidad"),
        "JUnit": (),
        "Mockito": (),
        "pytest": (),
        "Jest": (),
        "Vitest": (),
        "Mocha": (),
        "Playwright": (),
        "Selenium": (),
        "Cypress": (),
        "A/B Testing": ("ab testing", "a/b tests", "a/b test", "split testing", "pruebas a/b"),
        "Code Review": ("code reviews", "revision de codigo"),
        "Debugging": ("troubleshooting", "debug", "depuracion"),
    },
    "data": {
        "Data Analysis": (
            "data analytics", "analisis de datos", "analizar datos", "data analyst", "statistical data analysis",
        ),
        "Data Visualization": (
            "data visualisation", "visualization", "visualisation", "visualizacion de datos", "data viz",
            "visualizacion",
        ),
        "Dashboards": ("dashboard", "tableros de control", "tablero de control", "dashboarding"),
        "Statistics": (
            "statistical analysis", "statistical", "estadistica", "applied statistics", "statistical modeling",
            "statistical testing", "statistical modelling", "estadisticas",
        ),
        "Data Science": ("ciencia de datos", "data scientist"),
        "Data Engineering": ("data engineer", "ingenieria de datos"),
        "Data Mining": ("mineria de datos",),
        "Big Data": ("large-scale data", "large scale data"),
        "Data Pipelines": ("data pipeline", "pipelines de datos", "data processing pipelines", "etl pipelines"),
        "ETL": ("elt", "extract transform load"),
        "Data Warehousing": ("data warehouse", "dwh", "almacen de datos"),
        "Data Modeling": ("data modelling", "modelado de datos", "relational data modeling"),
        "Data Governance": ("gobierno de datos", "data quality"),
        "Business Intelligence": ("bi", "bi tools", "herramientas bi", "inteligencia de negocios"),
        "Reporting": ("reportes", "reporting processes", "informes de gestion"),
        "KPIs": ("kpi", "key performance indicators", "kpis"),
        "Tableau": (),
        "Power BI": ("powerbi", "power-bi"),
        "Looker": (),
        "Looker Studio": ("data studio", "datastudio", "google data studio"),
        "Qlik": ("qlikview", "qlik sense"),
        "Mixpanel": (),
        "Amplitude": (),
        "Google Analytics": ("ga4",),
        "SAS": (),
        "SPSS": (),
        "Stata": (),
        "pandas": (),
        "NumPy": (),
        "SciPy": (),
        "Jupyter": ("jupyter notebook", "jupyter notebooks", "jupyterlab"),
        "Matplotlib": (),
        "Seaborn": (),
        "ggplot": ("ggplot2",),
        "D3.js": ("d3", "d3js"),
        "Weka": (),
        "Hive": ("apache hive",),
        "Pig": ("apache pig",),
        "Hadoop": ("apache hadoop", "hdfs", "mapreduce"),
        "Spark": ("apache spark", "pyspark", "spark sql", "spark streaming"),
        "Kafka": ("apache kafka", "kafka streams"),
        "Airflow": ("apache airflow",),
        "dbt": (),
        "Snowflake": (),
        "BigQuery": ("big query",),
        "Redshift": ("amazon redshift",),
        "Databricks": (),
        "Dask": (),
        "Ray": (),
        "Excel": (
            "microsoft excel", "ms excel", "excel avanzado", "advanced excel", "office excel", "pivot tables",
            "tablas dinamicas",
        ),
        "Google Sheets": ("google sheet",),
        "Spreadsheets": ("spreadsheet", "hojas de calculo", "hoja de calculo"),
    },
    "ml": {
        "Machine Learning": (
            "ml", "machine-learning", "aprendizaje automatico", "aprendizaje de maquina", "aprendizaje de maquinas",
            "applied ml", "ml engineering", "machine learning engineering",
        ),
        "Deep Learning": ("deep neural networks", "aprendizaje profundo"),
        "Neural Networks": (
            "neural network", "cnn", "cnns", "rnn", "rnns", "convolutional neural networks",
            "recurrent neural networks", "lstm", "redes neuronales",
        ),
        "Transformers": ("transformer", "transformer models", "transformer architectures", "transformer model"),
        "Hugging Face": ("huggingface", "hugging face transformers"),
        "NLP": (
            "natural language processing", "nlu", "natural language understanding",
            "procesamiento de lenguaje natural", "text classification",
        ),
        "Computer Vision": ("image recognition", "vision por computadora", "vision artificial", "image classification"),
        "Generative AI": (
            "genai", "gen ai", "llm", "llms", "large language models", "large language model", "ia generativa",
            "prompt engineering",
        ),
        "Artificial Intelligence": ("ai", "a.i", "inteligencia artificial"),
        "Reinforcement Learning": ("aprendizaje por refuerzo",),
        "Recommender Systems": (
            "recommendation system", "recommendation systems", "recommender system", "collaborative filtering",
            "recommendation engine", "sistemas de recomendacion",
        ),
        "Time Series Analysis": ("time series", "time-series forecasting", "series de tiempo", "series temporales"),
        "Predictive Modeling": (
            "predictive models", "predictive modelling", "predictive analytics", "predictive model",
            "prediction systems", "modelos predictivos",
        ),
        "Feature Engineering": ("feature extraction", "feature selection"),
        "Dimensionality Reduction": ("pca", "principal component analysis"),
        "Regression Analysis": ("regression", "linear regression", "logistic regression"),
        "Scikit-learn": ("sklearn", "scikit learn", "scikit"),
        "TensorFlow": ("tensor flow", "tensorflow 2", "tf.keras"),
        "PyTorch": ("torch",),
        "Keras": (),
        "XGBoost": ("lightgbm", "catboost", "gradient boosting"),
        "Random Forest": ("random forests", "decision forests", "decision trees", "decision tree"),
        "SVM": ("support vector machines", "support vector machine", "svms"),
        "Naive Bayes": (),
        "k-NN": ("knn", "k nearest neighbors", "k-nearest neighbours", "k-nearest neighbors"),
        "OpenCV": (),
        "Prophet": (),
        "ARIMA": (),
        "Word2Vec": ("word embeddings",),
        "spaCy": (),
        "NLTK": (),
        "MLflow": ("ml flow",),
        "Kubeflow": (),
        "Weights & Biases": ("wandb", "weights and biases"),
        "SageMaker": ("aws sagemaker", "amazon sagemaker", "sagemaker endpoints"),
        "Vertex AI": (),
        "Triton Inference Server": ("triton", "nvidia triton"),
        "Feature Store": ("feature stores", "feast", "tecton"),
        "Model Registry": ("model registries",),
        "Model Monitoring": ("ml monitoring", "data drift", "concept drift", "prediction drift", "whylogs"),
        "MLOps": ("ml ops", "machine learning operations"),
        "Mathematical Optimization": (
            "optimization algorithms", "operations research", "linear programming", "investigacion de operaciones",
        ),
        "Mathematical Modeling": ("mathematical modelling", "modelado matematico"),
    },
    "cloud": {
        "AWS": ("amazon web services", "aws cloud", "aws cloud practitioner"),
        "EC2": ("amazon ec2", "aws ec2"),
        "S3": ("amazon s3", "aws s3"),
        "AWS Lambda": ("lambda", "lambda functions"),
        "ECS": ("amazon ecs", "aws ecs", "fargate"),
        "RDS": ("amazon rds", "aws rds"),
        "ElastiCache": (),
        "CloudFront": (),
        "API Gateway": ("aws api gateway",),
        "GCP": ("google cloud", "google cloud platform", "gke"),
        "Azure": ("microsoft azure", "aks", "azure devops"),
        "Docker": ("containerization", "containerisation", "docker compose", "docker-compose", "contenedores"),
        "Kubernetes": ("k8s", "eks", "openshift"),
        "Terraform": ("infrastructure as code", "iac"),
        "Ansible": (),
        "Jenkins": (),
        "GitHub Actions": ("github action",),
        "CircleCI": ("circle ci",),
        "GitLab CI": ("gitlab ci/cd", "gitlab-ci"),
        "CI/CD": (
            "ci cd", "cicd", "continuous integration", "continuous delivery", "continuous deployment",
            "integracion continua", "despliegue continuo", "deployment pipelines", "ci/cd pipelines", "ci",
        ),
        "DevOps": ("dev ops",),
        "SRE": ("site reliability engineering", "site reliability", "site reliability engineer"),
        "Observability": ("monitoring and alerting", "distributed tracing", "observabilidad"),
        "Datadog": (),
        "OpenTelemetry": ("open telemetry",),
        "Prometheus": (),
        "Grafana": (),
        "PagerDuty": (),
        "Nginx": (),
        "Serverless": ("serverless architecture",),
        "Cloud Computing": (
            "cloud", "cloud platforms", "cloud infrastructure", "cloud native", "cloud-native", "cloud solutions",
            "cloud technology", "computacion en la nube", "la nube", "cloud services",
        ),
        "Linux": ("unix", "unix/linux", "linux/unix", "ubuntu", "debian", "red hat", "rhel", "centos"),
        "Git": ("github", "gitlab", "bitbucket"),
        "SVN": ("subversion",),
        "Version Control": ("version control systems", "source control", "control de versiones", "version control tools"),
        "Networking": ("computer networks", "tcp/ip", "network engineering", "redes de computadoras"),
        "Cybersecurity": (
            "security", "information security", "cyber security", "seguridad de la informacion", "ciberseguridad",
            "application security", "infosec", "appsec",
        ),
        "Disaster Recovery": ("backup and recovery", "recuperacion ante desastres"),
        "ITIL": (),
        "ITSM": ("it service management",),
        "CMDB": (),
        "ServiceNow": ("service now",),
        "Elasticsearch": ("elastic search", "opensearch", "elk"),
    },
    "database": {
        "PostgreSQL": ("postgres", "psql", "postgre sql", "postgre"),
        "MySQL": ("my sql", "mariadb"),
        "SQL Server": ("ms sql", "mssql", "microsoft sql server", "sql server management studio"),
        "Oracle Database": ("oracle", "oracle db", "oracle database"),
        "SQLite": (),
        "MongoDB": ("mongo",),
        "Cassandra": ("apache cassandra", "cql"),
        "Redis": (),
        "DynamoDB": ("dynamo db",),
        "HBase": (),
        "Neo4j": (),
        "Firebase": ("firestore",),
        "NoSQL": (
            "no sql", "non-relational databases", "bases de datos no relacionales", "nosql databases",
            "non relational databases",
        ),
        "Relational Databases": (
            "relational database", "rdbms", "bases de datos relacionales", "relational database systems",
            "base de datos relacional",
        ),
        "Database Design": ("database schemas", "schema design", "diseno de base de datos", "database schema"),
        "Query Optimization": (
            "sql query optimization", "query tuning", "database optimization", "database performance",
            "optimizacion de consultas",
        ),
        "Databases": (
            "database", "bases de datos", "base de datos", "gestores de base de datos", "gestores de bases de datos",
            "database management", "database fundamentals", "database systems",
        ),
    },
    "mobile": {
        "Android": ("android sdk",),
        "iOS": ("ios development",),
        "React Native": (),
        "Flutter": (),
        "Mobile Development": (
            "mobile app development", "mobile apps", "mobile applications", "aplicaciones moviles",
            "mobile development", "desarrollo movil", "mobile web",
        ),
    },
    "tools": {
        "Jira": (),
        "Confluence": (),
        "Microsoft Office": ("ms office", "office 365", "microsoft 365", "office suite", "paquete office"),
        "Microsoft Word": ("ms word",),
        "PowerPoint": ("power point", "ms powerpoint"),
        "Microsoft Access": ("ms access",),
        "Google Workspace": ("g suite", "gsuite", "google docs", "google drive"),
        "Google Slides": (),
        "Power Platform": ("power automate", "power apps", "powerapps"),
        "Automation": ("automatizacion", "process automation", "workflow automation", "rpa"),
    },
    "design": {
        "UX Design": (
            "ux", "user experience", "user experience design", "experiencia de usuario", "ux/ui", "ui/ux",
            "ux design",
        ),
        "UI Design": ("ui", "user interface design", "user interface", "user interfaces", "interfaz de usuario"),
        "Figma": (),
        "Sketch": (),
        "Adobe XD": (),
        "Photoshop": ("adobe photoshop", "psd"),
        "Illustrator": ("adobe illustrator",),
        "InDesign": ("adobe indesign",),
        "Adobe Creative Suite": ("creative cloud", "adobe cc", "adobe creative cloud"),
        "Wireframing": ("wireframes", "wireframe", "mockups", "mock-ups"),
        "Prototyping": ("prototipado",),
        "Usability Testing": ("user testing", "pruebas de usabilidad"),
        "User Research": ("ux research", "user interviews", "investigacion de usuarios"),
        "Design Systems": ("design system", "design-system", "sistema de diseno"),
        "Graphic Design": ("diseno grafico",),
        "Interaction Design": ("ixd",),
        "Design Thinking": ("pensamiento de diseno",),
        "Video Editing": ("premiere pro", "adobe premiere", "final cut", "edicion de video"),
    },
    "product": {
        "Product Management": (
            "product manager", "gestion de producto", "gestion de productos", "product owner", "product management",
            "product managers",
        ),
        "Product Strategy": ("estrategia de producto",),
        "Product Roadmap": ("roadmap", "roadmaps", "roadmapping", "hoja de ruta", "product roadmaps"),
        "Product Discovery": ("customer discovery", "discovery interviews"),
        "Requirements Gathering": (
            "requirements analysis", "requirement analysis", "gathering requirements", "requirements gathering",
            "levantamiento de requerimientos", "levantamiento de requisitos", "product requirements",
        ),
        "PRDs": ("prd", "product requirements documents", "product requirements document"),
        "Backlog Management": ("product backlog", "backlog"),
        "User Stories": ("user story", "historias de usuario"),
        "Acceptance Criteria": ("criterios de aceptacion",),
        "Go-to-Market": ("go to market", "gtm", "go-to-market strategy"),
        "Market Research": ("investigacion de mercado", "estudio de mercado", "market analysis"),
        "Competitive Analysis": ("competitor analysis", "analisis de la competencia"),
        "Product Analytics": ("funnel analysis", "funnel data", "product metrics"),
        "SaaS": ("software as a service", "b2b saas"),
        "Experimentation": ("experimentation frameworks",),
    },
    "project": {
        "Project Management": (
            "gestion de proyectos", "manejo de proyectos", "project manager", "administracion de proyectos",
            "gerencia de proyectos", "project planning", "managing projects", "manage projects",
            "project delivery", "direccion de proyectos",
        ),
        "Program Management": ("program manager", "technical program management", "tpm", "programme management"),
        "Stakeholder Management": (
            "stakeholder communication", "managing stakeholders", "stakeholder engagement",
            "stakeholder relations", "gestion de stakeholders", "gestion de interesados", "align stakeholders",
        ),
        "Agile": (
            "agile methodologies", "agile methodology", "agile development", "metodologias agiles",
            "metodologia agil", "agil", "agiles", "agile development methodologies",
        ),
        "Scrum": ("scrum master", "sprint planning", "sprints"),
        "Kanban": (),
        "Waterfall": (),
        "Risk Management": ("gestion de riesgos", "risk assessment", "riesgos", "manage financial risk", "risk analysis"),
        "Budgeting": (
            "budget management", "presupuestos", "presupuesto", "annual budget", "budget planning", "budgets",
        ),
        "Resource Planning": ("resource allocation", "capacity planning", "planificacion de recursos"),
        "Change Management": ("gestion del cambio",),
        "Process Improvement": (
            "continuous improvement", "process optimization", "mejora continua", "mejora de procesos",
            "operational process improvement", "mejoras de procesos",
        ),
        "Lean Methodology": ("lean manufacturing", "lean management", "kaizen", "lean principles"),
        "Six Sigma": ("lean six sigma", "6 sigma"),
        "PMP": ("pmi",),
        "PRINCE2": ("prince 2",),
        "OKRs": ("okr", "objectives and key results"),
        "Strategic Planning": ("strategic plans", "planeamiento estrategico", "planificacion estrategica", "strategic plan"),
        "Team Management": (
            "people management", "managing teams", "team management", "gestion de equipos", "engineering management",
            "managing a team", "manage a team",
        ),
        "Vendor Management": ("supplier management", "gestion de proveedores", "vendor relations"),
    },
    "finance": {
        "Financial Analysis": ("analisis financiero", "financial analyst", "financial analytics"),
        "Financial Modeling": ("financial modelling", "financial models", "modelos financieros"),
        "Accounting": ("contabilidad", "accountancy", "bookkeeping"),
        "Financial Reporting": ("reporting financiero", "reportes financieros", "estados financieros", "financial statements"),
        "Forecasting": ("forecast", "forecasts", "pronosticos", "proyecciones financieras"),
        "Auditing": ("audit", "audits", "auditoria", "system audits"),
        "Tax": ("taxation", "impuestos", "tributacion"),
        "Billing": ("facturacion", "e-commerce billing"),
        "Invoicing": ("invoice", "invoices", "invoice validation", "facturas"),
        "Reconciliation": (
            "reconciliations", "account reconciliation", "bank reconciliation", "conciliacion", "conciliaciones",
            "conciliacion bancaria",
        ),
        "Accounts Payable": ("cuentas por pagar",),
        "Accounts Receivable": ("cuentas por cobrar", "cobranza", "cobranzas", "collections management"),
        "Credit Risk": ("credit scoring", "riesgo crediticio", "riesgo de credito", "credit analysis"),
        "Compliance": ("regulatory compliance", "regulatory requirements", "cumplimiento normativo"),
        "AML/KYC": ("kyc", "aml", "anti money laundering", "anti-money laundering"),
        "SAP": ("sap erp", "sap fico", "sap hana"),
        "Hyperion": ("oracle hyperion",),
        "OBIEE": (),
        "QuickBooks": (),
        "NetSuite": ("oracle netsuite",),
        "ERP": ("erp systems", "enterprise resource planning", "finance systems"),
        "Valuation": ("valoracion de empresas", "dcf"),
        "Portfolio Management": ("gestion de portafolio", "gestion de carteras", "portfolio management"),
        "Corporate Finance": ("finanzas corporativas",),
        "Treasury": ("tesoreria", "cash management"),
        "Payroll": ("nomina", "planillas"),
        "P&L": ("p & l", "profit and loss", "p&l management"),
        "Variance Analysis": ("analisis de varianzas", "analyzing variances"),
        "GAAP": ("us gaap",),
        "IFRS": ("niif",),
        "CPA": (),
        "CFA": (),
        "Revenue Reporting": ("revenue recognition",),
        "Pricing": ("pricing strategy", "estrategia de precios"),
    },
    "marketing": {
        "Marketing": ("mercadeo",),
        "Digital Marketing": ("marketing digital", "online marketing"),
        "Product Marketing": (),
        "Content Marketing": ("marketing de contenidos",),
        "Content Strategy": ("content creation", "content development", "creacion de contenido", "customer-facing content"),
        "Copywriting": ("copy writing", "copywriter", "redaccion publicitaria"),
        "Social Media": ("social media marketing", "redes sociales", "social media management", "community management"),
        "SEM": ("search engine marketing", "google ads", "ppc", "adwords", "paid search"),
        "Email Marketing": ("mailchimp", "email campaigns"),
        "Brand Management": ("branding", "brand strategy", "gestion de marca"),
        "Marketing Analytics": ("campaign analytics",),
        "CRM": ("customer relationship management",),
        "Salesforce": ("sfdc",),
        "HubSpot": (),
        "Public Relations": ("relaciones publicas",),
        "Sales": ("ventas", "value selling", "selling"),
        "Sales Enablement": (),
        "Business Development": ("desarrollo de negocios", "biz dev"),
        "Customer Success": (),
        "Customer Service": (
            "atencion al cliente", "servicio al cliente", "customer support", "client service", "customer care",
        ),
        "Account Management": ("key account management", "gestion de cuentas"),
        "Lead Generation": ("generacion de leads",),
        # Sales methodologies, named as such by listings ("MEDDIC or Challenger").
        "MEDDIC": ("meddpicc", "meddicc"),
        "Challenger Sale": ("challenger selling", "challenger sales", "challenger methodology"),
        "SPIN Selling": ("spin sales",),
        "Sandler Selling": ("sandler",),
        "Solution Selling": (),
        "Storytelling": ("narrativa",),
        "Technical Writing": ("technical documentation", "software documentation", "redaccion tecnica"),
        "Editing": ("proofreading", "copyediting"),
    },
    "teaching": {
        "Teaching": (
            "teacher", "teaching experience", "tutoring", "tutor", "docencia", "ensenanza", "docente",
            "teaching assistant", "instructor", "instructed",
        ),
        "Classroom Management": ("manejo de aula", "gestion del aula", "classroom discipline"),
        "Lesson Planning": ("lesson plans", "lesson plan", "planificacion de clases", "planeacion de clases"),
        "Curriculum Development": (
            "curriculum design", "curriculum", "desarrollo curricular", "diseno curricular", "curricula",
        ),
        "Online Teaching": (
            "online classes", "virtual classes", "e-learning", "elearning", "online learning", "clases virtuales",
            "remote teaching", "live classes", "online teaching",
        ),
        "Phonics": (),
        "Literacy": ("reading instruction", "alfabetizacion"),
        "ESL": (
            "english as a second language", "tefl", "tesol", "celta", "efl", "english as a foreign language",
        ),
        "Student Assessment": ("grading", "student evaluation", "evaluacion de estudiantes", "homework correction"),
        "Pedagogy": ("pedagogical", "pedagogia", "pedagogico", "pedagogica", "didactica"),
        "Differentiated Instruction": ("differentiated learning",),
        "Special Education": ("special needs", "educacion especial"),
        "Early Childhood Education": ("early childhood", "preschool", "kindergarten", "educacion inicial"),
        "Educational Technology": ("edtech", "google classroom", "lms", "moodle", "canvas lms"),
        "Parent Communication": ("parent-teacher", "parent teacher", "communicated regularly with parents"),
        "Facilitation": ("facilitator", "facilitating", "facilitacion"),
        "Corporate Training": ("capacitacion", "train the trainer", "employee training", "training delivery"),
    },
    "operations": {
        "Logistics": ("logistica", "logistic"),
        "Supply Chain Management": ("supply chain", "cadena de suministro", "scm"),
        "Inventory Management": (
            "inventory", "inventory control", "stock control", "inventarios", "gestion de inventario", "inventario",
        ),
        "Procurement": ("purchasing", "compras", "adquisiciones"),
        "Warehouse Management": ("warehouse", "warehousing", "almacen", "wms", "almacenes"),
        "Shipping": ("shipment", "shipments", "freight", "envios", "despacho"),
        "Transportation Management": ("fleet management", "transportation", "transporte", "route planning"),
        "Demand Planning": ("demand forecasting", "planificacion de la demanda"),
        "Operations Management": ("operations management", "gestion de operaciones", "operational management"),
        "Order Management": ("order processing", "order fulfillment", "order fulfilment", "fulfillment"),
        "E-commerce": ("ecommerce", "e commerce", "comercio electronico"),
        "Import/Export": ("customs", "aduanas", "import export", "comercio exterior"),
        "Quality Control": ("control de calidad", "qc"),
        "Health and Safety": ("osha", "hse", "seguridad y salud ocupacional"),
        "Data Entry": ("digitacion", "ingreso de datos"),
        "Scheduling": ("calendar management", "programacion de horarios"),
        "Office Management": (
            "office manager", "office administration", "administrative support", "administracion de oficina",
        ),
        "Documentation": ("documentacion", "record keeping", "records management"),
        "Human Resources": ("hr", "h.r", "recursos humanos", "hr management", "h.r. management"),
        "Recruiting": ("recruitment", "talent acquisition", "interviewing", "reclutamiento", "seleccion de personal"),
        "Business Analysis": ("business analyst", "analisis de negocio", "analista de negocio"),
        "Consulting": ("consultoria", "consultant"),
        "Customer Experience": ("cx", "client experience"),
    },
    "health": {
        "Nursing": ("registered nurse", "enfermeria", "nurse"),
        "Patient Care": ("direct patient care", "atencion al paciente", "cuidado de pacientes"),
        "Critical Care": ("icu", "intensive care", "cuidados intensivos", "uci"),
        "BLS": ("basic life support", "soporte vital basico"),
        "ACLS": ("advanced cardiovascular life support", "soporte vital avanzado"),
        "CCRN": ("critical care registered nurse",),
        "Electronic Health Records": ("ehr", "emr", "electronic health record", "electronic medical records",
                                      "historia clinica electronica"),
        "Epic": ("epic ehr", "epic systems"),
        "IV Therapy": ("iv medications", "intravenous therapy", "iv therapy"),
        "Telemetry": ("telemetry monitoring", "cardiac monitoring", "telemetria"),
        "Mechanical Ventilation": ("ventilator management", "ventilacion mecanica"),
        "Hemodynamic Monitoring": ("monitorizacion hemodinamica",),
        "Wound Care": ("cura de heridas",),
    },
    "hospitality": {
        "Property Management Systems": ("property management system", "opera pms", "opera cloud", "cloudbeds",
                                        "programas de gestion hotelera"),
        "Front Desk": ("front office", "reception", "recepcion", "front desk agent", "recepcionista"),
        "Guest Services": ("guest service", "guest relations", "atencion al huesped", "atencion al cliente hotelero"),
        "Reservations": ("reservas", "booking management"),
        "Cash Handling": ("cierre de caja", "cash drawer", "manejo de caja"),
        "Event Management": ("gestion de eventos", "group bookings", "gestion de grupos"),
    },
    "soft": {
        "Communication": (
            "communication skills", "communicative", "comunicacion", "communications", "written communication",
            "verbal communication", "habilidades de comunicacion", "communicate", "communicating",
        ),
        "Leadership": ("liderazgo", "team leadership", "leadership skills", "thought leadership"),
        "Teamwork": (
            "team player", "trabajo en equipo", "collaboration", "colaboracion", "collaborative",
            "trabajar en equipo", "work in a team", "work in teams", "working in a team", "teamwork", "en equipo",
            "collaborated", "collaborate", "collaborating", "colaborar", "colabore",
            "as part of a team", "as a team",
        ),
        "Problem Solving": (
            "problem-solving", "problem solver", "resolucion de problemas", "solving problems", "problem-solver",
        ),
        "Critical Thinking": ("pensamiento critico", "critical-thinking"),
        "Analytical Skills": (
            "analytical", "analytical thinking", "analytic", "pensamiento analitico", "capacidad analitica",
            "analytical skills",
        ),
        "Attention to Detail": ("detail-oriented", "detail oriented", "atencion al detalle", "attention to detail"),
        "Time Management": ("gestion del tiempo", "manejo del tiempo", "prioritization", "prioritisation"),
        "Adaptability": ("adaptacion al cambio", "adaptabilidad", "adaptable"),
        "Creativity": ("creative", "creatividad", "creatively"),
        "Mentoring": ("mentored", "mentor", "mentorship", "mentoria", "mentoring"),
        "Coaching": ("coach", "coached"),
        "Negotiation": ("negociacion", "negotiating", "negotiated", "negotiate", "negocie", "negociar"),
        "Presentation Skills": ("public speaking", "presentations", "presentaciones", "presenting", "presented"),
        "Customer Focus": ("customer-focused", "customer focus", "orientacion al cliente", "customer-centric"),
        "Self-Motivation": (
            "self-starter", "self starter", "self-motivated", "self motivated", "self-driven", "proactive",
            "proactivo", "proactiva", "self-direct", "proactively", "work independently", "working independently",
            "de forma independiente", "de manera independiente", "de forma autonoma", "de manera autonoma",
            "autonomia", "little supervision", "minimal supervision",
        ),
        "Multitasking": ("multi-task", "multi-tasking", "multitask", "multi task"),
        "Interpersonal Skills": ("interpersonal", "habilidades interpersonales", "relaciones interpersonales"),
        "Strategic Thinking": ("pensamiento estrategico",),
        "Decision Making": ("decision-making", "toma de decisiones", "data-driven decisions", "data driven decisions"),
        "Organizational Skills": ("organizational", "organisational skills", "organization skills"),
        "Results Orientation": (
            "orientacion a resultados", "results-oriented", "results oriented", "results driven", "results-driven",
            "logro de objetivos",
        ),
        "Cross-functional Collaboration": (
            "cross-functional", "cross functional", "cross-functional teams", "cross-team collaboration",
            "cross-team", "equipos multidisciplinarios",
        ),
        "Research": ("research skills", "investigacion"),
    },
    "spoken_language": {
        "English": ("ingles", "english language"),
        "Spanish": ("espanol", "castellano"),
        "French": ("frances",),
        "German": ("aleman",),
        "Portuguese": ("portugues",),
        "Mandarin": ("chinese", "chino", "mandarin chinese"),
        "Hindi": (),
    },
}

# Categories whose skills make a neighbouring ambiguous token ("c", "go", "r", "spring") a skill.
_TECH_CATEGORIES = frozenset({"programming", "web", "testing", "data", "ml", "cloud", "database", "mobile", "design"})
# Categories that describe traits everybody claims; they count for less in scoring.
SOFT_CATEGORIES = frozenset({"soft", "spoken_language"})


@dataclass(frozen=True)
class _Guard:
    """When an ambiguous alias counts as a skill.

    ``needs_context``: only next to a technical skill (or after "programming languages").
    ``reject_next`` / ``reject_prev``: words around it that make it ordinary language.
    """

    needs_context: bool = True
    reject_next: frozenset[str] = frozenset()
    reject_prev: frozenset[str] = frozenset()


_AFTER_GO = frozenset(
    "to live through beyond above back out into over far forward get getter ahead the a an for on in at "
    "from up down with further deep".split()
)
# Keys are single-token aliases (normalised). They are English words, names or letters.
_GUARDS: dict[str, _Guard] = {
    "c": _Guard(reject_next=frozenset({"&", "level", "suite", "corp"})),
    "r": _Guard(reject_next=frozenset({"&"})),
    "go": _Guard(reject_next=_AFTER_GO),
    "rust": _Guard(),
    "ruby": _Guard(),
    "swift": _Guard(),
    "dart": _Guard(),
    "julia": _Guard(),
    "ember": _Guard(),
    "spring": _Guard(),
    "rails": _Guard(),
    "express": _Guard(),
    "assembly": _Guard(),
    "sketch": _Guard(),
    "illustrator": _Guard(),
    "bootstrap": _Guard(),
    "lambda": _Guard(),
    "hive": _Guard(),
    "pig": _Guard(),
    "ray": _Guard(),
    "prophet": _Guard(),
    "node": _Guard(),
    "rest": _Guard(reject_prev=frozenset({"the"})),
    "vite": _Guard(),
    "amplitude": _Guard(),
    "snowflake": _Guard(),
    "jest": _Guard(),
    "mocha": _Guard(),
    "feast": _Guard(),
    "triton": _Guard(),
    "torch": _Guard(),
    "backbone": _Guard(),
    "flask": _Guard(),
    "spark": _Guard(
        needs_context=False,
        reject_next=frozenset(
            "curiosity joy interest creativity conversation conversations innovation ideas change a the their your our".split()
        ),
        reject_prev=frozenset({"to", "will", "that", "can", "help", "helps", "which"}),
    ),
    "ci": _Guard(),
    "oracle": _Guard(needs_context=False, reject_prev=frozenset({"an", "the"})),
    "excel": _Guard(
        needs_context=False,
        reject_next=frozenset({"at", "in", "as", "when", "while", "within", "on"}),
        reject_prev=frozenset({"to", "will", "you", "who", "can", "should", "must", "we", "they"}),
    ),
    "react": _Guard(
        needs_context=False,
        reject_next=frozenset({"to", "quickly", "fast", "promptly", "accordingly", "appropriately", "calmly"}),
    ),
    "security": _Guard(
        needs_context=False,
        reject_prev=frozenset({"job", "social", "national", "financial", "food", "income"}),
        reject_next=frozenset({"deposit", "clearance", "guard", "guards", "number"}),
    ),
    "cloud": _Guard(needs_context=False, reject_prev=frozenset({"google", "oracle", "salesforce", "word"})),
    "responsive": _Guard(needs_context=False, reject_prev=frozenset({"be", "is", "are", "very", "highly"})),
    "coach": _Guard(needs_context=False, reject_next=frozenset({"class", "travel", "bus"})),
    "regression": _Guard(needs_context=False, reject_next=frozenset({"tests", "testing", "test", "suite"})),
}

# "Python, Java, C" / "programming languages: C": words announcing a list of languages.
_LANGUAGE_CUES = frozenset({"language", "languages", "lenguaje", "lenguajes", "programming", "programacion"})
# Tokens skipped when looking for a neighbouring skill (commas and bullets are not tokens).
_LIST_GLUE = frozenset({"/", "&", "and", "or", "y", "o", "e", "u", "plus", "as", "well", "such", "like", "including"})
_CONTEXT_WINDOW = 2

# Broader skills a specific one implies: listing asks for SQL, resume says PostgreSQL -> matched.
_IMPLIES: dict[str, tuple[str, ...]] = {
    "postgresql": ("sql", "relational databases", "databases"),
    "mysql": ("sql", "relational databases", "databases"),
    "sql server": ("sql", "relational databases", "databases"),
    "oracle database": ("sql", "relational databases", "databases"),
    "sqlite": ("sql", "relational databases", "databases"),
    "pl/sql": ("sql", "oracle database"),
    "relational databases": ("databases",),
    "sql": ("databases",),
    "nosql": ("databases",),
    "bigquery": ("sql", "gcp"),
    "redshift": ("sql", "aws"),
    "snowflake": ("sql",),
    "hive": ("sql", "hadoop"),
    "mongodb": ("nosql",),
    "cassandra": ("nosql",),
    "redis": ("nosql",),
    "dynamodb": ("nosql", "aws"),
    "hbase": ("nosql", "hadoop"),
    "neo4j": ("nosql",),
    "elasticsearch": ("nosql",),
    "firebase": ("nosql",),
    "react": ("javascript", "frontend development"),
    "angular": ("javascript", "frontend development"),
    "vue.js": ("javascript", "frontend development"),
    "svelte": ("javascript", "frontend development"),
    "jquery": ("javascript",),
    "backbone.js": ("javascript",),
    "ember.js": ("javascript",),
    "next.js": ("react",),
    "nuxt.js": ("vue.js",),
    "redux": ("react",),
    "react native": ("react", "mobile development"),
    "typescript": ("javascript",),
    "node.js": ("javascript", "backend development"),
    "express.js": ("node.js",),
    "apps script": ("javascript",),
    "d3.js": ("javascript", "data visualization"),
    "django": ("python", "backend development"),
    "django rest framework": ("django", "rest api"),
    "flask": ("python", "backend development"),
    "fastapi": ("python", "backend development"),
    "pandas": ("python", "data analysis"),
    "numpy": ("python",),
    "scipy": ("python",),
    "jupyter": ("python",),
    "matplotlib": ("python", "data visualization"),
    "seaborn": ("python", "data visualization"),
    "scikit-learn": ("python", "machine learning"),
    "pytorch": ("deep learning", "python"),
    "tensorflow": ("deep learning",),
    "keras": ("deep learning",),
    "deep learning": ("machine learning", "neural networks"),
    "neural networks": ("machine learning",),
    "transformers": ("deep learning",),
    "hugging face": ("transformers", "nlp"),
    "nlp": ("machine learning",),
    "computer vision": ("machine learning",),
    "opencv": ("computer vision",),
    "xgboost": ("machine learning",),
    "random forest": ("machine learning",),
    "svm": ("machine learning",),
    "naive bayes": ("machine learning",),
    "k-nn": ("machine learning",),
    "recommender systems": ("machine learning",),
    "predictive modeling": ("machine learning",),
    "reinforcement learning": ("machine learning",),
    "word2vec": ("nlp",),
    "spacy": ("nlp",),
    "nltk": ("nlp",),
    "machine learning": ("artificial intelligence",),
    "generative ai": ("artificial intelligence",),
    "mlflow": ("mlops",),
    "kubeflow": ("mlops", "kubernetes"),
    "sagemaker": ("aws", "mlops"),
    "vertex ai": ("gcp", "mlops"),
    "spring boot": ("spring", "java"),
    "spring": ("java",),
    "hibernate": ("java",),
    "j2ee": ("java",),
    "junit": ("unit testing", "java"),
    "mockito": ("unit testing", "java"),
    "pytest": ("unit testing", "python"),
    "jest": ("unit testing", "javascript"),
    "vitest": ("unit testing", "javascript"),
    "mocha": ("unit testing", "javascript"),
    "tdd": ("unit testing",),
    "playwright": ("end-to-end testing", "test automation"),
    "cypress": ("end-to-end testing", "test automation"),
    "selenium": ("test automation",),
    "ruby on rails": ("ruby", "backend development"),
    "laravel": ("php",),
    "codeigniter": ("php",),
    "symfony": ("php",),
    "wordpress": ("php",),
    "drupal": ("php",),
    ".net": ("c#",),
    "sass": ("css",),
    "tailwind css": ("css",),
    "bootstrap": ("css",),
    "html": ("web development",),
    "jinja": ("python",),
    "ec2": ("aws",),
    "s3": ("aws",),
    "aws lambda": ("aws", "serverless"),
    "ecs": ("aws", "docker"),
    "rds": ("aws", "relational databases"),
    "elasticache": ("aws", "redis"),
    "cloudfront": ("aws",),
    "api gateway": ("aws",),
    "aws": ("cloud computing",),
    "gcp": ("cloud computing",),
    "azure": ("cloud computing",),
    "kubernetes": ("docker",),
    "jenkins": ("ci/cd",),
    "github actions": ("ci/cd",),
    "circleci": ("ci/cd",),
    "gitlab ci": ("ci/cd",),
    "datadog": ("observability",),
    "opentelemetry": ("observability",),
    "prometheus": ("observability",),
    "grafana": ("observability",),
    "git": ("version control",),
    "svn": ("version control",),
    "spark": ("big data",),
    "hadoop": ("big data",),
    "pig": ("hadoop",),
    "scrum": ("agile",),
    "kanban": ("agile",),
    "pmp": ("project management",),
    "prince2": ("project management",),
    "program management": ("project management",),
    "six sigma": ("process improvement",),
    "lean methodology": ("process improvement",),
    "tableau": ("data visualization", "business intelligence"),
    "power bi": ("data visualization", "business intelligence"),
    "looker": ("data visualization", "business intelligence"),
    "looker studio": ("data visualization", "business intelligence"),
    "qlik": ("data visualization", "business intelligence"),
    "dashboards": ("data visualization",),
    "ggplot": ("r", "data visualization"),
    "excel": ("microsoft office", "spreadsheets"),
    "google sheets": ("google workspace", "spreadsheets"),
    "google slides": ("google workspace",),
    "microsoft word": ("microsoft office",),
    "powerpoint": ("microsoft office",),
    "microsoft access": ("microsoft office",),
    "vba": ("excel",),
    "seo": ("digital marketing",),
    "sem": ("digital marketing",),
    "social media": ("digital marketing",),
    "email marketing": ("digital marketing",),
    "digital marketing": ("marketing",),
    "content marketing": ("marketing",),
    "product marketing": ("marketing",),
    "salesforce": ("crm",),
    "hubspot": ("crm",),
    "esl": ("teaching",),
    "phonics": ("teaching", "literacy"),
    "lesson planning": ("teaching",),
    "classroom management": ("teaching",),
    "curriculum development": ("teaching",),
    "online teaching": ("teaching",),
    "special education": ("teaching",),
    "early childhood education": ("teaching",),
    "figma": ("ui design",),
    "sketch": ("ui design",),
    "adobe xd": ("ui design",),
    "servicenow": ("itsm",),
    "itil": ("itsm",),
    "android": ("mobile development",),
    "ios": ("mobile development",),
    "flutter": ("mobile development", "dart"),
    "swift": ("ios",),
    "objective-c": ("ios",),
    "kotlin": ("android",),
    "accounts payable": ("accounting",),
    "accounts receivable": ("accounting",),
    "gaap": ("accounting",),
    "ifrs": ("accounting",),
    "cpa": ("accounting",),
    "quickbooks": ("accounting",),
    "sap": ("erp",),
    "netsuite": ("erp", "accounting"),
    "epic": ("electronic health records",),
    "ccrn": ("critical care", "nursing"),
    "property management systems": (),
    "warehouse management": ("logistics",),
    "supply chain management": ("logistics",),
    "transportation management": ("logistics",),
    "full-stack development": ("frontend development", "backend development"),
    "frontend development": ("web development",),
    "microservices": ("distributed systems",),
    "credit risk": ("risk management",),
    "okrs": ("kpis",),
    "a/b testing": ("experimentation",),
    "data pipelines": ("etl",),
}

# Any programming language shows "programming" / "coding" skills.
for _language in (
    "python", "java", "javascript", "typescript", "c", "c++", "c#", "go", "rust", "ruby", "php", "kotlin", "swift",
    "scala", "r", "matlab", "perl", "shell scripting", "vba", "apps script", "dart", "elixir", "haskell", "clojure",
    "lua", "julia", "objective-c", "f#", "ocaml", "erlang", "groovy",
):
    _IMPLIES[_language] = (*_IMPLIES.get(_language, ()), "programming")

# Skills a broader one makes likely but does not prove: half credit. A product manager has
# almost surely kept a roadmap; the resume should still say so, so they stay "missing".
_RELATED: dict[str, tuple[str, ...]] = {
    "product management": (
        "product roadmap", "backlog management", "product strategy", "stakeholder management", "prds",
        "user stories", "requirements gathering", "acceptance criteria", "go-to-market", "product discovery",
        "product analytics", "experimentation", "okrs",
    ),
    "project management": (
        "stakeholder management", "risk management", "budgeting", "resource planning", "scheduling",
        "team management", "requirements gathering",
    ),
    "program management": ("stakeholder management", "risk management", "resource planning", "team management"),
    "agile": ("scrum", "kanban", "backlog management", "user stories"),
    "scrum": ("backlog management", "user stories"),
    "machine learning": ("statistics", "data science", "predictive modeling", "feature engineering", "mlops"),
    "deep learning": ("transformers", "computer vision", "nlp"),
    "nlp": ("transformers",),
    "data science": ("statistics", "machine learning", "data analysis", "data visualization"),
    "data analysis": ("statistics", "data visualization", "reporting"),
    "mlops": ("model monitoring", "model registry", "feature store"),
    "data engineering": ("data pipelines", "etl", "data warehousing", "data modeling"),
    "teaching": (
        "lesson planning", "classroom management", "student assessment", "curriculum development", "pedagogy",
        "online teaching", "parent communication",
    ),
    "online teaching": ("educational technology",),
    "esl": ("literacy", "phonics"),
    "backend development": ("rest api", "databases", "api design", "microservices"),
    "frontend development": ("html", "css", "responsive design", "ui design"),
    "software engineering": ("code review", "unit testing", "version control", "debugging", "design patterns"),
    "accounting": ("reconciliation", "accounts payable", "accounts receivable", "financial reporting", "invoicing", "billing"),
    "financial analysis": ("financial modeling", "forecasting", "variance analysis", "budgeting"),
    "logistics": (
        "shipping", "inventory management", "warehouse management", "transportation management",
        "order management", "supply chain management",
    ),
    "supply chain management": ("procurement", "demand planning", "inventory management"),
    "ux design": ("user research", "wireframing", "prototyping", "usability testing", "interaction design"),
    "ui design": ("design systems", "wireframing", "prototyping"),
    "marketing": ("market research", "brand management", "content strategy", "digital marketing"),
    "sales": ("business development", "account management", "crm", "negotiation"),
    "team management": ("mentoring", "coaching", "recruiting"),
    "devops": ("ci/cd", "docker", "kubernetes", "terraform", "linux", "observability"),
    "databases": ("database design", "query optimization"),
    "distributed systems": ("microservices", "event-driven architecture"),
    "office management": ("scheduling", "documentation", "data entry", "vendor management", "microsoft office"),
}


# --- Index construction (runs once at import) -----------------------------------------------


def _alias_keys(alias: str) -> list[tuple[str, ...]]:
    """Token tuples an alias matches: itself, plus a plural of the last word for phrases."""
    tokens = tuple(tokenize(normalize_text(alias)))
    if not tokens:
        raise ValueError(f"skill alias {alias!r} has no tokens")
    keys = [tokens]
    last = tokens[-1]
    if len(tokens) > 1 and last.isalpha() and not last.endswith("s"):
        keys.append(tokens[:-1] + (last + "s",))
    return keys


def _build() -> tuple[
    dict[tuple[str, ...], str], dict[str, str], dict[str, str], dict[str, tuple[str, ...]]
]:
    """Alias index, category and display name per canonical skill, and the alias lists.

    Raises ``ValueError`` if two skills claim the same alias, so vocabulary mistakes fail loudly
    at import instead of silently mis-attributing matches.
    """
    index: dict[tuple[str, ...], str] = {}
    category_of: dict[str, str] = {}
    display_of: dict[str, str] = {}
    aliases_of: dict[str, tuple[str, ...]] = {}
    for category, entries in _CATALOGUE.items():
        for display, aliases in entries.items():
            canonical = display.lower()
            if canonical in category_of:
                raise ValueError(f"skill {display!r} is defined twice")
            category_of[canonical] = category
            display_of[canonical] = display
            aliases_of[canonical] = (canonical, *aliases)
            for alias in (display, *aliases):
                for key in _alias_keys(alias):
                    owner = index.setdefault(key, canonical)
                    if owner != canonical:
                        raise ValueError(f"alias {alias!r} belongs to both {owner!r} and {canonical!r}")
    for child, parents in (*_IMPLIES.items(), *_RELATED.items()):
        for name in (child, *parents):
            if name not in category_of:
                raise ValueError(f"implication mentions unknown skill {name!r}")
    return index, category_of, display_of, aliases_of


_INDEX, _CATEGORY_OF, _DISPLAY_OF, _ALIASES_OF = _build()
_MAX_ALIAS_TOKENS = max(len(key) for key in _INDEX)
_FIRST_TOKENS = frozenset(key[0] for key in _INDEX)
for _alias in _GUARDS:
    if (_alias,) not in _INDEX:
        raise ValueError(f"guarded alias {_alias!r} is not in the vocabulary")

#: canonical skill name -> (canonical, *aliases), read-only.
SKILLS: Mapping[str, tuple[str, ...]] = MappingProxyType(_ALIASES_OF)


def _closure(skill: str) -> frozenset[str]:
    """``skill`` and everything it implies, transitively."""
    seen = {skill}
    stack = [skill]
    while stack:
        for parent in _IMPLIES.get(stack.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return frozenset(seen)


_CLOSURES: dict[str, frozenset[str]] = {name: _closure(name) for name in _CATEGORY_OF}


# --- Public helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SkillHit:
    """A skill found at tokens ``[start, end)`` of the scanned token sequence."""

    skill: str
    start: int
    end: int


def skill_category(skill: str) -> str:
    """Category of a canonical skill name (raises ``KeyError`` for unknown names)."""
    return _CATEGORY_OF[skill]


def is_soft_skill(skill: str) -> bool:
    """True for traits and spoken languages, which weigh less than hard skills."""
    return _CATEGORY_OF.get(skill) in SOFT_CATEGORIES


def display_name(skill: str) -> str:
    """Human spelling of a canonical skill ("postgresql" -> "PostgreSQL"); unknown names as given."""
    return _DISPLAY_OF.get(skill, skill)


def implied_skills(skills: Iterable[str]) -> frozenset[str]:
    """The given canonical skills plus every broader skill they imply (PyTorch -> deep learning)."""
    result: set[str] = set()
    for skill in skills:
        result |= _CLOSURES.get(skill, frozenset({skill}))
    return frozenset(result)


def related_skills(skills: Iterable[str]) -> frozenset[str]:
    """Skills made likely (not proven) by the given ones and what they imply; excludes the implied set."""
    covered = implied_skills(skills)
    result: set[str] = set()
    for skill in covered:
        for related in _RELATED.get(skill, ()):
            result |= _CLOSURES[related]
    return frozenset(result - covered)


def find_skills(tokens: Sequence[str]) -> list[SkillHit]:
    """Skills mentioned in ``tokens`` (from ``tokenize``), in order, longest phrase first.

    Ambiguous single-word aliases are kept only in a context that makes them a skill (see
    ``_Guard``); a guarded alias may be vouched for by another guarded one that was accepted
    ("Go, Rust" next to "Python").
    """
    raw = _scan(tokens)
    accepted: list[SkillHit] = []
    pending: list[SkillHit] = []
    for hit in raw:
        guard = _guard_for(tokens, hit)
        if guard is None:
            accepted.append(hit)
        elif _rejected_by_neighbours(tokens, hit, guard):
            continue
        elif guard.needs_context:
            pending.append(hit)
        else:
            accepted.append(hit)
    # A few rounds let chains like "Go, Rust, Python" resolve right to left.
    for _ in range(3):
        tech_positions = _tech_positions(accepted)
        still: list[SkillHit] = []
        for hit in pending:
            if _has_context(tokens, hit, tech_positions):
                accepted.append(hit)
            else:
                still.append(hit)
        if len(still) == len(pending):
            break
        pending = still
    accepted.sort(key=lambda hit: hit.start)
    return accepted


def _scan(tokens: Sequence[str]) -> list[SkillHit]:
    """Greedy longest-match scan of the alias index."""
    hits: list[SkillHit] = []
    count = len(tokens)
    i = 0
    while i < count:
        if tokens[i] not in _FIRST_TOKENS:
            i += 1
            continue
        for length in range(min(_MAX_ALIAS_TOKENS, count - i), 0, -1):
            skill = _INDEX.get(tuple(tokens[i : i + length]))
            if skill is not None:
                hits.append(SkillHit(skill, i, i + length))
                i += length
                break
        else:
            i += 1
    return hits


def _guard_for(tokens: Sequence[str], hit: SkillHit) -> _Guard | None:
    """The guard of a one-token match, or None when the match is unambiguous."""
    if hit.end - hit.start != 1:
        return None
    return _GUARDS.get(tokens[hit.start])


def _rejected_by_neighbours(tokens: Sequence[str], hit: SkillHit, guard: _Guard) -> bool:
    before = tokens[hit.start - 1] if hit.start > 0 else ""
    after = tokens[hit.end] if hit.end < len(tokens) else ""
    return before in guard.reject_prev or after in guard.reject_next


def _tech_positions(hits: Iterable[SkillHit]) -> frozenset[int]:
    """Token positions covered by accepted technical skills."""
    positions: set[int] = set()
    for hit in hits:
        if _CATEGORY_OF[hit.skill] in _TECH_CATEGORIES:
            positions.update(range(hit.start, hit.end))
    return frozenset(positions)


def _has_context(tokens: Sequence[str], hit: SkillHit, tech_positions: frozenset[int]) -> bool:
    """True if a technical skill sits within two words (list glue skipped) or a language cue precedes."""
    for step, origin in ((-1, hit.start - 1), (1, hit.end)):
        seen = 0
        position = origin
        while 0 <= position < len(tokens) and seen < _CONTEXT_WINDOW:
            if tokens[position] in _LIST_GLUE:
                position += step
                continue
            if position in tech_positions:
                return True
            seen += 1
            position += step
    start = max(0, hit.start - 4)
    return any(token in _LANGUAGE_CUES for token in tokens[start : hit.start])
