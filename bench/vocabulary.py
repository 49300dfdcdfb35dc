"""The Spanish words the synthetic catalogue is written with.

Lists are ordered roughly from common to rare: the seeder draws from them with Zipf weights (the n-th word about
1/n as likely as the first), as words are drawn in real text, so a search finds a common word in most projects and
a rare one in a few. The vocabulary is that of prevention programmes in Chihuahua: FICOSEC's axes and lines of
action, its populations, the activities and the places its partners report.
"""

# The word the benchmark searches as "in every project": every summary opens with it (it is a prevention portal).
COMMON_WORD = "prevención"
# The word searched as "selective": a rare activity near the end of ACTIVITIES (about 6 % of projects at any scale).
SELECTIVE_WORD = "ajedrez"

PROGRAMME_HEADS = [
    "Programa", "Proyecto", "Estrategia", "Modelo", "Iniciativa", "Intervención", "Red", "Escuela", "Observatorio",
    "Centro", "Plataforma", "Laboratorio", "Sistema", "Campaña", "Diplomado", "Mesa", "Colectivo", "Semillero",
    "Brigadas", "Circuito", "Agenda", "Alianza",
]

TOPICS = [
    "prevención de la violencia", "cultura de la legalidad", "mediación comunitaria", "justicia cívica",
    "policía de proximidad", "prevención de adicciones", "convivencia escolar", "cohesión social",
    "reinserción social", "justicia restaurativa", "atención a víctimas", "prevención de la violencia familiar",
    "violencia de género", "derechos humanos", "participación ciudadana", "seguridad ciudadana",
    "empleabilidad juvenil", "emprendimiento social", "recuperación de espacios públicos", "salud mental comunitaria",
    "crianza positiva", "deporte social", "arte comunitario", "fortalecimiento institucional",
    "evaluación de políticas públicas", "transparencia y rendición de cuentas", "profesionalización policial",
    "análisis delictivo", "prevención del reclutamiento", "acompañamiento psicosocial", "educación para la paz",
    "liderazgo juvenil", "economía solidaria", "movilidad segura", "prevención del acoso escolar",
    "resolución pacífica de conflictos", "alfabetización digital", "inclusión laboral", "atención temprana",
    "tratamiento de adicciones", "prevención del suicidio", "protección de la niñez", "migración y refugio",
    "sistema de justicia penal", "medidas cautelares", "monitoreo de la incidencia delictiva",
    "capacitación de operadores de justicia", "gobernanza local", "competitividad regional",
    "orquestas comunitarias", "huertos urbanos", "bibliotecas comunitarias", "cine debate", "muralismo",
]

POPULATION_PHRASES = [
    "jóvenes", "niñas y niños", "adolescentes", "mujeres", "familias", "jóvenes en riesgo", "personas migrantes",
    "adolescentes en conflicto con la ley", "policías municipales", "docentes", "madres y padres de familia",
    "personas privadas de la libertad", "comunidades indígenas", "mujeres jefas de familia", "juventudes rarámuri",
    "operadores de justicia", "líderes vecinales", "personas liberadas", "personas usuarias de drogas",
    "estudiantes de secundaria", "estudiantes de bachillerato", "jornaleros agrícolas", "comerciantes",
]

COLONIAS = [
    "Riberas del Bravo", "Anapra", "Felipe Ángeles", "División del Norte", "Lomas de Poleo", "Todos Somos Mexicanos",
    "Cerro de la Cruz", "Villa Juárez", "Francisco I. Madero", "Colinas de León", "Punta Oriente", "Dale",
    "Revolución Mexicana", "Parajes del Sur", "Las Torres", "Tierra Nueva", "Granjas de Chapultepec",
    "Cerro Grande", "Vistas del Norte", "Aeropuerto", "Insurgentes", "Ampliación Plutarco", "Rosario", "Guadalajara",
    "Pancho Villa", "Los Nogales", "Mármol", "Cárcamo", "Villa Nueva", "Plaza de Toros", "El Barreal",
    "Chihuahua 2000", "Campesina", "Obrera", "Centro", "Cumbres", "Barrio de Londres",
    "Infonavit Nacional", "Nombre de Dios", "Santa Rosa", "Cuarto Centenario", "Rubio", "Sierra Azul",
]

NOUNS = [
    "comunidad", "violencia", "jóvenes", "escuela", "familia", "seguridad", "convivencia", "participación", "taller",
    "capacitación", "programa", "municipio", "policía", "colonia", "red", "mediación", "derechos", "salud", "deporte",
    "cultura", "empleo", "justicia", "víctimas", "mujeres", "legalidad", "prevención", "intervención", "diagnóstico",
    "modelo", "evaluación", "indicadores", "gobierno", "sociedad", "organizaciones", "liderazgo", "acompañamiento",
    "entorno", "riesgo", "factores", "protección", "tejido", "espacios", "barrio", "vecinos", "docentes",
    "adolescentes", "niñez", "conflictos", "adicciones", "consumo", "delito", "delincuencia", "homicidios", "denuncia",
    "confianza", "instituciones", "capacidades", "proceso", "metodología", "herramientas", "habilidades", "valores",
    "respeto", "paz", "ciudadanía", "reinserción", "rehabilitación", "tratamiento", "atención", "orientación",
    "psicología", "terapia", "sesiones", "grupos", "círculos", "brigadas", "promotores", "facilitadores",
    "voluntariado", "alianzas", "corresponsabilidad", "transparencia", "información", "datos", "encuestas",
    "estadística", "georreferenciación", "mapas", "patrullaje", "proximidad", "cuadrantes", "reacción", "emergencias",
    "llamadas", "carpetas", "investigación", "fiscalía", "juzgados", "audiencias", "sentencias", "medidas",
    "supervisión", "libertad", "centros", "penitenciario", "egresados", "oficios", "becas", "estudios", "bachillerato",
    "secundaria", "primaria", "deserción", "rezago", "alfabetización", "lectura", "música", "danza", "teatro",
    "pintura", "muralismo", "fútbol", "béisbol", "boxeo", "atletismo", "huerto", "nutrición", "alimentación",
    "vivienda", "alumbrado", "parques", "canchas", "bibliotecas", "transporte", "movilidad", "migración", "albergue",
    "frontera", "refugio", "asilo", "empresas", "maquiladoras", "empleadores", "emprendimiento", "microcréditos",
    "cooperativas", "artesanías", "comercio", "mercado", "turismo", "sierra", "rarámuri", "ejidos", "jornaleros",
    "agricultura", "ganadería", "manzana", "nogal", "algodón", "minería", "bosque", "agua", "sequía", "clima",
    "pandemia", "crisis", "duelo", "resiliencia", "autoestima", "emociones", "crianza", "paternidad", "maternidad",
    "noviazgo", "embarazo", "sexualidad", "género", "masculinidades", "igualdad", "discriminación", "inclusión",
    "discapacidad", "accesibilidad", "tecnología", "plataforma", "aplicación", "redes", "ciberacoso", "videojuegos",
    "robótica", "programación", "ciencia", "astronomía", "fotografía", "cine", "radio", "podcast", "periodismo",
    "memoria", "identidad", "tradiciones", "danzantes", "matachines", "peregrinación", "fe", "parroquia", "iglesia",
    "pastoral", "apicultura", "carpintería", "herrería", "panadería", "costura", "repostería", "barbería",
    "soldadura", "electricidad", "mecánica", "serigrafía", "tatuaje", "grafiti", "hip hop", "rap", "skate",
]

ADJECTIVES = [
    "comunitario", "social", "integral", "municipal", "estatal", "local", "juvenil", "escolar", "familiar",
    "ciudadano", "público", "preventivo", "institucional", "psicosocial", "cultural", "deportivo", "educativo",
    "económico", "sostenible", "participativo", "restaurativo", "territorial", "regional", "digital", "seguro",
    "pacífico", "colaborativo", "intersectorial", "focalizado", "temprano", "oportuno", "efectivo", "innovador",
    "piloto", "replicable", "medible", "transparente", "incluyente", "intercultural", "comunitaria", "vulnerable",
    "prioritario", "urbano", "rural", "serrano", "fronterizo", "indígena", "laboral", "productivo", "emocional",
    "terapéutico", "clínico", "jurídico", "penal", "cívico", "vecinal", "solidario", "voluntario", "artístico",
    "musical", "recreativo", "formativo", "técnico", "profesional", "especializado", "certificado", "anual",
    "trimestral", "semestral", "permanente", "itinerante", "virtual", "presencial", "híbrido", "binacional",
]

VERBS = [
    "fortalecer", "prevenir", "atender", "reducir", "promover", "impulsar", "acompañar", "capacitar", "formar",
    "articular", "consolidar", "mejorar", "ampliar", "generar", "desarrollar", "implementar", "evaluar", "medir",
    "monitorear", "documentar", "sistematizar", "replicar", "vincular", "recuperar", "rehabilitar", "reinsertar",
    "mediar", "orientar", "canalizar", "proteger", "sensibilizar", "difundir", "visibilizar", "empoderar",
    "certificar", "profesionalizar", "equipar", "construir", "rescatar", "transformar", "integrar", "incluir",
    "disminuir", "contener", "identificar", "diagnosticar", "georreferenciar", "analizar", "publicar", "rendir",
]

ACTIVITIES = [
    "talleres de habilidades para la vida", "círculos de paz", "sesiones de terapia grupal", "torneos deportivos",
    "jornadas comunitarias", "asesorías psicológicas", "mesas de diálogo", "capacitación a docentes",
    "visitas domiciliarias", "ferias de empleo", "cursos de oficios", "clases de música", "brigadas de limpieza",
    "cine debate", "pláticas de crianza positiva", "patrullajes de proximidad", "asambleas vecinales",
    "campamentos de verano", "tutorías escolares", "grupos de apoyo", "murales colectivos", "huertos urbanos",
    "clubes de lectura", "talleres de robótica", "clínicas de box", "programas de radio comunitaria",
    "encuentros intergeneracionales", "talleres de carpintería", "clubes de ajedrez", "talleres de apicultura",
]

UNITS = ["personas", "%", "sesiones", "talleres", "escuelas", "familias", "colonias", "casos", "servicios", "horas"]

INDICATOR_TEMPLATES = [
    "{pop} que concluyen el programa", "{pop} que participan en {act}", "Porcentaje de {pop} con mejora en {noun}",
    "Casos de {noun} atendidos", "Sesiones de {act} realizadas", "{pop} canalizados a {noun}",
    "Reincidencia de {pop}", "Denuncias de {noun} en la zona de intervención", "Escuelas con protocolo de {noun}",
    "Percepción de {noun} en la colonia", "{pop} con empleo a seis meses", "Tiempo de respuesta de {noun}",
]

SENTENCE_TEMPLATES = [
    "El proyecto busca {verb} {noun} {adj} de {pop} en {place} mediante {act}.",
    "Se trabajará con {pop} para {verb} los factores de protección frente a {noun} y {noun2}.",
    "La intervención incluye {act} y {act2}, con seguimiento {adj} de cada participante.",
    "Durante la primera etapa se realizará un diagnóstico {adj} de {noun} en {colonia}.",
    "Las actividades se coordinan con {org_kind} para {verb} {noun} {adj}.",
    "Se espera {verb} la {noun} {adj} y {verb2} el acceso a {noun2}.",
    "El modelo se basa en evidencia sobre {topic} y prioriza a {pop}.",
    "Cada trimestre se reportarán avances de {noun} y {noun2} al comité técnico.",
    "Los resultados se publicarán para {verb} la {noun} y la rendición de cuentas.",
    "La organización implementadora cuenta con experiencia en {topic} en {place}.",
    "Se capacitará a {pop} como promotores de {noun} {adj} en {colonia}.",
    "Con {act} se pretende {verb} la {noun} entre {pop} y {pop2}.",
]

ORG_KIND_PHRASES = [
    "el gobierno municipal", "la Secretaría de Seguridad Pública", "la Fiscalía General del Estado", "las escuelas",
    "la mesa de seguridad", "el DIF municipal", "los comités vecinales", "las empresas de la zona",
    "el Instituto Chihuahuense de las Mujeres", "las universidades", "los centros de salud",
]

CALL_NAMES = [
    "Convocatoria {year} de Proyectos de Prevención", "Convocatoria {year} Corresponsabilidad Ciudadana",
    "Fondo Concursable {year}", "Convocatoria {year} Fortalecimiento Institucional", "Convocatoria Juventudes {year}",
]

ORG_NAME_PATTERNS = {
    "osc": ["Centro Comunitario {w}, A.C.", "Red {w} por la Paz, A.C.", "Colectivo {w}, A.C.", "Jóvenes {w}, A.C.",
            "Casa {w}, A.C.", "Mujeres {w}, A.C.", "Consejo Ciudadano {w}, A.C.", "Promotora {w}, I.A.P.",
            "Comité Vecinal {w}, A.C.", "Asociación {w} de {place}, A.C."],
    "foundation": ["Fundación {w}, A.C.", "Fundación {w} del Norte, A.C.", "Fundación Comunitaria {w}, A.C."],
    "company": ["{w} del Norte, S.A. de C.V.", "Grupo {w}, S.A. de C.V.", "Industrias {w}, S.A. de C.V.",
                "{w} de {place}, S.A. de C.V.", "Maquiladora {w}, S. de R.L. de C.V."],
    "academia": ["Universidad {w}", "Instituto Tecnológico de {place}", "Colegio {w}", "Centro de Estudios {w}"],
    "gov_municipal": ["Municipio de {place}", "DIF Municipal de {place}", "Dirección de Seguridad Pública de {place}"],
    "gov_state": ["Secretaría de {w} del Estado de Chihuahua", "Instituto Estatal de {w}", "Comisión Estatal de {w}"],
    "gov_federal": ["Secretaría Federal de {w}", "Programa Nacional de {w}"],
    "autonomous": ["Comisión Estatal de los Derechos Humanos, oficina {place}", "Instituto Autónomo de {w}"],
    "international": ["Agencia de Cooperación {w}", "Programa Internacional {w}", "Fondo {w} para la Paz"],
}

ORG_WORDS = [
    "Esperanza", "Horizonte", "Tejiendo Comunidad", "Sierra Viva", "Raíces", "Nuevo Amanecer", "Desierto",
    "Paso del Norte", "Bravo", "Conchos", "Tarahumara", "Alianza", "Sembradores", "Futuro", "Luz", "Camino",
    "Puentes", "Encuentro", "Unidos", "Solidaridad", "Voces", "Manos", "Semilla", "Faro", "Brújula", "Ventana",
    "Kórima", "Ganar", "Vida", "Armonía", "Juventud", "Dignidad", "Tierra", "Ocotillo", "Biznaga", "Mezquite",
    "Nogal", "Manzano", "Sotol", "Cumbres", "Barrancas", "Médanos", "Samalayuca", "Candelaria", "Aldama",
    "Villa", "Chavira", "Terrazas", "Creel", "Guachochi", "Basaseachi", "Majalca", "Cuarenta Casas", "Paquimé",
]
