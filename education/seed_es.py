"""The starter content in Spanish, by slug: our own words, plain and
respectful (usted), reviewed for the clinic on SPANISH_REVIEWED_ON.

Used by ``seed.seed_content`` and by migration 0004 (for rows that exist
already); both fill only Spanish fields that are still empty.
"""

# ruff: noqa: E501  (prose reads best one sentence to a line, as in seed.py)

from datetime import date

SPANISH_REVIEWED_ON = date(2026, 11, 24)
SPANISH_REVIEWER = "Equipo de columna (fisioterapeutas, DPT)"

CONDITIONS = {
    "sciatica": {
        "name": "Ciática",
        "summary": "Dolor que baja desde la parte baja de la espalda o la nalga por una pierna. Qué es, cómo pueden ayudar los estiramientos suaves y cuándo buscar atención.",
        "body": """\
La ciática es el nombre que se da al dolor que sigue el camino del nervio ciático: desde la parte baja de la espalda o la nalga, por la parte de atrás de una pierna, a veces hasta el pie. Puede arder, doler o sentirse como una descarga eléctrica, y a menudo viene con hormigueo o adormecimiento.

Es un síntoma, no un diagnóstico. Casi siempre el nervio está irritado por algo cercano, con más frecuencia un disco de la parte baja de la espalda, y a veces por un estrechamiento alrededor del nervio o por músculos tensos en lo profundo de la nalga.

## Cómo pueden ayudar los estiramientos

Los estiramientos suaves de la parte baja de la espalda, la nalga y la cadera pueden aliviar la presión alrededor del nervio y ayudarle a moverse con más libertad. Muchas personas notan que el dolor se calma en unas semanas con movimiento suave y tiempo.

- Muévase dentro de lo cómodo. Una ligera molestia al estirar está bien; **un dolor agudo o que se extiende, no**.
- Si un estiramiento le lleva el dolor más abajo por la pierna, déjelo y pruebe otro.
- Es mejor poco y a menudo que sesiones largas.

## Cuándo buscar atención

Hable con su médico si el dolor no mejora en unas semanas, no le deja dormir o le impide trabajar. Busque atención urgente si tiene debilidad nueva en una pierna, adormecimiento en la ingle o cualquier cambio en el control de la vejiga o del intestino.
""",
    },
    "neck-pain": {
        "name": "Dolor de cuello",
        "summary": "Rigidez o dolor en el cuello, a menudo por la postura, el sueño o un esfuerzo. Estiramientos suaves que pueden ayudar y señales que necesitan un médico.",
        "body": """\
La mayor parte del dolor de cuello viene de músculos y articulaciones del cuello cargados o rígidos: muchas horas frente a una pantalla, una mala postura al dormir, el estrés o un movimiento brusco. Suele mejorar en días o semanas.

## Cómo pueden ayudar los estiramientos

Los estiramientos lentos y suaves mantienen el cuello en movimiento y pueden aliviar la tensión de los músculos. También ayudan los estiramientos de la parte alta de la espalda y del pecho, porque los hombros encorvados llevan la cabeza hacia delante y cargan el cuello.

- Mueva el cuello despacio y solo hasta donde le resulte cómodo.
- Haga pausas cortas de las pantallas: cada media hora, siéntese derecho y mire a su alrededor.

## Cuándo buscar atención

Hable con su médico si el dolor aparece después de una caída o un accidente, baja por un brazo con adormecimiento o debilidad, o viene con dolor de cabeza, fiebre o mareo. Si nota torpeza en las manos o dificultad nueva para caminar, busque atención urgente.
""",
    },
    "bulging-disc": {
        "name": "Disco abultado",
        "summary": "Un disco de la columna que se sale un poco de su borde habitual. Qué significa, por qué es frecuente y cómo puede ayudar el movimiento suave.",
        "body": """\
Los discos que hay entre los huesos de la columna funcionan como cojines. Con el tiempo, un disco puede aplanarse y salirse un poco de su borde habitual, como una llanta con poco aire. Esto es un **disco abultado** (también llamado protrusión discal).

Los discos abultados son muy frecuentes, y muchas personas que tienen uno en la resonancia no sienten ningún dolor. Cuando sí causa síntomas, suele ser porque presiona cerca de un nervio y produce dolor de espalda o de cuello, o un dolor que baja por un brazo o una pierna.

## Cómo pueden ayudar los estiramientos

Los estiramientos suaves y el movimiento regular mantienen flexibles la columna y las caderas, y pueden aliviar la presión sobre las zonas sensibles. A algunas personas les alivia inclinarse suavemente hacia atrás y a otras hacia delante: fíjese en qué le calma el dolor y dé preferencia a eso.

- Deje cualquier estiramiento que haga que el dolor baje más por el brazo o la pierna.
- No dé rebotes ni fuerce ninguna postura.

## Cuándo buscar atención

Hable con su médico si el dolor dura más de unas semanas o si tiene adormecimiento, hormigueo o debilidad. Una revisión de su resonancia puede mostrar si es probable que el disco sea la causa de sus síntomas.
""",
    },
    "herniated-disc": {
        "name": "Hernia de disco",
        "summary": "Cuando el centro blando de un disco sale por su capa externa. Por qué puede doler, cómo pueden ayudar los estiramientos y cuándo buscar atención.",
        "body": """\
Una **hernia de disco** es cuando parte del centro blando de un disco sale por una rotura de su anillo exterior, que es más duro. Si presiona un nervio cercano, puede causar dolor, hormigueo, adormecimiento o debilidad en un brazo (si está en el cuello) o en una pierna (si está en la parte baja de la espalda).

La buena noticia es que la mayoría de las hernias de disco mejoran por sí solas en semanas o meses, a medida que el cuerpo reabsorbe el material que salió.

## Cómo pueden ayudar los estiramientos

Por lo general, el movimiento suave es mejor que el reposo en cama. Estirar con cuidado la espalda, las caderas y las piernas le ayuda a seguir moviéndose mientras el disco se calma.

- Elija estiramientos que alivien sus síntomas o que hagan que el dolor suba de nuevo hacia la columna.
- Deje cualquier estiramiento que haga que el dolor baje más por el brazo o la pierna.

## Cuándo buscar atención

Busque atención urgente si tiene debilidad nueva, adormecimiento en la ingle o cualquier cambio en el control de la vejiga o del intestino. Si no, hable con su médico si el dolor no mejora en unas semanas; una revisión de su resonancia puede ayudar a decidir los siguientes pasos.
""",
    },
    "arthritis-of-the-spine": {
        "name": "Artrosis de la columna",
        "summary": "Desgaste de las pequeñas articulaciones de la columna que causa rigidez y dolor. Cómo los estiramientos suaves de cada día pueden ayudarle a seguir moviéndose.",
        "body": """\
La artrosis de la columna (también llamada espondilosis) es el desgaste de las pequeñas articulaciones que unen los huesos de la columna y de los discos que hay entre ellos. Forma parte normal del envejecimiento, y muchas personas tienen señales de artrosis en una radiografía o una resonancia sin mucho dolor.

Cuando causa síntomas, suele ser **rigidez**, peor por la mañana o después de estar sentado, y un dolor que se alivia al empezar a moverse.

## Cómo pueden ayudar los estiramientos

A las articulaciones les gusta moverse. Estirar con suavidad y con regularidad mantiene flexibles la columna y las caderas y puede aliviar la rigidez. Una ducha caliente antes de estirar puede hacerlo más cómodo.

- A algunas personas con artrosis de la columna les molesta inclinarse hacia atrás: si es su caso, sáltese esos estiramientos.
- Estire todos los días, con suavidad, en lugar de hacerlo fuerte una vez a la semana.

## Cuándo buscar atención

Hable con su médico si el dolor le despierta por la noche, si se siente enfermo o si tiene adormecimiento o debilidad en los brazos o las piernas.
""",
    },
}

STRETCHES = {
    "chin-tuck": {
        "name": "Retracción de barbilla",
        "summary": "Un movimiento pequeño y lento que lleva la cabeza hacia atrás, sobre los hombros, y alivia la carga de inclinarse hacia una pantalla.",
        "helps": "La rigidez en la base del cráneo y la cabeza que se adelanta tras horas frente al escritorio o el teléfono. Alarga con suavidad la parte de atrás del cuello.",
        "steps": "1. Siéntese o póngase de pie derecho, con los hombros relajados y la mirada al frente.\n2. Lleve la barbilla recta hacia atrás, como si hiciera una papada. Mantenga la mirada recta: no incline la cabeza hacia arriba ni hacia abajo.\n3. Debe notar un estiramiento suave en la parte de atrás del cuello. Manténgalo ahí.\n4. Relájese y deje que la cabeza vuelva hacia delante, a donde empezó.\n",
        "breathing_cue": "Respire despacio, tomando el aire por la nariz y soltándolo por la boca; deje caer los hombros cada vez que suelte el aire.",
        "cautions": "Haga un movimiento pequeño. No lo haga si le produce mareo o un dolor que baja al brazo.",
        "illustration_alt": "Dibujo, vista de lado, de pie: primero la cabeza adelantada, luego la barbilla se desliza recta hacia atrás y la cabeza queda sobre los hombros.",
    },
    "side-neck-stretch": {
        "name": "Estiramiento lateral del cuello",
        "summary": "Inclinar la oreja hacia el hombro para aliviar los músculos tensos del lado del cuello y de la parte alta del hombro.",
        "helps": "La tensión a lo largo del lado del cuello y en la parte alta de los hombros, a menudo por el estrés, por cargar bolsas o por sujetar el teléfono entre la oreja y el hombro.",
        "steps": "1. Siéntese derecho y deje caer los dos hombros, lejos de las orejas.\n2. Incline despacio la cabeza para que la oreja derecha se acerque al hombro derecho. Siga mirando al frente.\n3. Pare cuando note un estiramiento suave en el lado izquierdo del cuello. Mantenga.\n4. Vuelva despacio la cabeza al centro y haga el otro lado.\n",
        "breathing_cue": "Cada vez que suelte el aire despacio, deje que el hombro del lado que estira baje un poco más.",
        "cautions": "No tire de la cabeza con la mano. Pare si nota hormigueo o adormecimiento en el brazo o la mano.",
        "illustration_alt": "Dibujo, vista de frente, de pie: primero la cabeza derecha, luego inclinada para que una oreja se acerque al hombro, con una mano apoyada suavemente en la cabeza.",
    },
    "neck-turn": {
        "name": "Giro suave del cuello",
        "summary": "Girar la cabeza despacio para mirar por encima de cada hombro, para que el cuello se mueva con libertad y se alivie la rigidez.",
        "helps": "Un cuello rígido que le cuesta girar para mirar por encima del hombro, por ejemplo al dar marcha atrás con el carro.",
        "steps": "1. Siéntese derecho, con los hombros relajados y la barbilla recta.\n2. Gire despacio la cabeza para mirar por encima del hombro derecho, hasta donde le resulte cómodo.\n3. Mantenga donde note un estiramiento leve.\n4. Vuelva despacio al centro y luego gire hacia la izquierda.\n",
        "breathing_cue": "Respire de forma lenta y regular; no aguante la respiración mientras gira.",
        "cautions": "Muévase despacio y mantenga la barbilla recta. Pare si se siente mareado o aturdido.",
        "illustration_alt": "Dibujo, vista de frente, de pie: primero mirando al frente, luego con la cabeza girada suavemente hacia un lado.",
    },
    "shoulder-blade-squeeze": {
        "name": "Juntar los omóplatos",
        "summary": "Juntar suavemente los omóplatos para activar la parte alta de la espalda y abrir los hombros encorvados.",
        "helps": "El dolor entre los omóplatos y los hombros encorvados por estar sentado. También quita algo de carga al cuello.",
        "steps": "1. Siéntese o póngase de pie derecho, con los brazos relajados a los lados.\n2. Lleve con suavidad los omóplatos hacia atrás y un poco hacia abajo, como si quisiera meterlos en los bolsillos de atrás.\n3. Mantenga el cuello largo y los hombros lejos de las orejas. Mantenga.\n4. Relájese despacio.\n",
        "breathing_cue": "Tome aire para levantar un poco el pecho, y suéltelo despacio mientras mantiene los omóplatos juntos.",
        "cautions": "Apriete con suavidad, no con fuerza. No lo haga si le pellizca en el hombro.",
        "illustration_alt": "Dibujo, vista de lado, de pie: primero los brazos sueltos, luego los codos doblados y llevados hacia atrás para juntar los omóplatos.",
    },
    "doorway-chest-stretch": {
        "name": "Estiramiento del pecho en el marco de la puerta",
        "summary": "Usar el marco de una puerta para abrir la parte delantera del pecho, lo que ayuda a la parte alta de la espalda a mantenerse derecha.",
        "helps": "Los músculos del pecho tensos que llevan los hombros hacia delante y encorvan la parte alta de la espalda.",
        "steps": "1. Colóquese en el marco de una puerta. Apoye los antebrazos en el marco a cada lado, con los codos un poco por debajo de la altura de los hombros.\n2. Adelante un pie despacio hasta notar un estiramiento suave en la parte delantera del pecho.\n3. Mantenga la espalda recta y la barbilla recta. Mantenga.\n4. Dé un paso atrás para soltar.\n",
        "breathing_cue": "Respire profundamente hacia el pecho; cada vez que toma aire, el estiramiento se abre un poco.",
        "cautions": "No haga este estiramiento si se ha dislocado un hombro, o si le causa dolor en el hombro u hormigueo en las manos.",
        "illustration_alt": "Dibujo, vista de lado, en el marco de una puerta: un brazo doblado apoyado en el marco a la altura del hombro, luego la persona da un paso adelante para abrir el pecho.",
    },
    "self-hug-stretch": {
        "name": "Estiramiento del abrazo",
        "summary": "Abrazarse a sí mismo para separar los omóplatos y estirar los músculos que hay entre ellos.",
        "helps": "La tensión y el dolor entre los omóplatos.",
        "steps": "1. Siéntese o póngase de pie derecho.\n2. Rodéese con los brazos y ponga cada mano en el hombro contrario.\n3. Redondee suavemente la parte alta de la espalda y deje caer un poco la barbilla, como si se curvara alrededor de una pelota.\n4. Note el estiramiento entre los omóplatos. Mantenga y luego vuelva despacio a sentarse derecho.\n",
        "breathing_cue": "Respire hacia la espalda: note cómo se ensancha por detrás al tomar aire.",
        "cautions": "Curve la espalda con suavidad. No lo haga si le han dicho que evite inclinarse hacia delante.",
        "illustration_alt": "Dibujo, vista de frente, de pie: primero los brazos bien abiertos, luego cruzados sobre el pecho con cada mano en el hombro contrario.",
    },
    "seated-twist": {
        "name": "Giro sentado",
        "summary": "Un giro lento del tronco sentado en una silla, para que la parte media de la espalda siga moviéndose.",
        "helps": "La rigidez en la parte media de la espalda, que puede hacer que girarse, estirar el brazo o respirar hondo se sientan tensos.",
        "steps": "1. Siéntese derecho cerca del borde de una silla firme, con los pies apoyados en el suelo.\n2. Cruce los brazos sobre el pecho o apoye las manos en los muslos.\n3. Gire despacio la parte alta del cuerpo hacia la derecha, empezando desde la mitad de la espalda. Mantenga las caderas mirando al frente.\n4. Mantenga donde note un estiramiento suave, vuelva al centro y haga el otro lado.\n",
        "breathing_cue": "Siéntese derecho al tomar aire; al soltarlo, deje que el giro avance un poco más, sin forzar.",
        "cautions": "No use el respaldo de la silla para girar más. No lo haga si girar le causa un dolor agudo.",
        "illustration_alt": "Dibujo, vista de frente, en una silla: primero mirando al frente con las manos en las rodillas, luego la parte alta del cuerpo girada hacia un lado, con una mano en el respaldo.",
    },
    "childs-pose": {
        "name": "Postura del niño",
        "summary": "De rodillas, inclinarse hacia delante para descansar, con un estiramiento largo y suave a lo largo de la espalda.",
        "helps": "Una espalda tensa y cansada, desde la parte media hasta la parte baja. También es una postura de descanso que calma.",
        "steps": "1. Arrodíllese sobre una colchoneta o una alfombra, con las rodillas separadas y los dedos gordos de los pies juntos.\n2. Siéntese hacia atrás, hacia los talones, y avance las manos por el suelo.\n3. Deje que el pecho baje hacia el suelo y apoye la frente en el suelo o en un cojín.\n4. Mantenga, luego retroceda con las manos y levántese despacio.\n",
        "breathing_cue": "Respire despacio hacia la espalda y note cómo se eleva y se ensancha con cada respiración.",
        "cautions": "Si lo necesita, ponga un cojín debajo de las rodillas o entre las caderas y los talones. No lo haga si tiene una prótesis de rodilla o de cadera, salvo que su cirujano esté de acuerdo.",
        "illustration_alt": "Dibujo, vista de lado, en el suelo: primero a cuatro patas, luego sentado hacia los talones, con el pecho bajado y los brazos estirados hacia delante en el suelo.",
    },
    "thread-the-needle": {
        "name": "Enhebrar la aguja",
        "summary": "A cuatro patas, deslizar un brazo por debajo del otro para girar la parte media de la espalda y estirar el hombro.",
        "helps": "La rigidez en la parte media de la espalda y en la parte de atrás de los hombros.",
        "steps": "1. Empiece a cuatro patas, con las manos debajo de los hombros y las rodillas debajo de las caderas.\n2. Deslice el brazo derecho, con la palma hacia arriba, por el suelo por debajo del brazo izquierdo.\n3. Deje que el hombro derecho y el lado de la cabeza descansen con suavidad en el suelo o en un cojín.\n4. Mantenga, luego vuelva despacio y haga el otro lado.\n",
        "breathing_cue": "Suelte el aire despacio mientras se acomoda en el giro; siga respirando con suavidad mientras mantiene.",
        "cautions": "No lo haga si arrodillarse le duele en las rodillas, o si le causa dolor en el cuello o el hombro.",
        "illustration_alt": "Dibujo, vista de lado, en el suelo: primero a cuatro patas, luego un brazo se desliza por debajo del cuerpo y ese hombro y la cabeza descansan en el suelo.",
    },
    "knee-to-chest": {
        "name": "Rodilla al pecho",
        "summary": "Acostado boca arriba, llevar una rodilla hacia el pecho para aliviar la parte baja de la espalda y la nalga.",
        "helps": "Una parte baja de la espalda rígida y dolorida, y la tensión en la nalga. Un buen punto de partida si le duele la espalda.",
        "steps": "1. Acuéstese boca arriba sobre una superficie firme, con las dos rodillas dobladas y los pies apoyados.\n2. Sujete por detrás del muslo derecho y lleve despacio esa rodilla hacia el pecho.\n3. Deje el otro pie en el suelo y la parte baja de la espalda relajada. Mantenga.\n4. Baje la pierna despacio y haga el otro lado.\n",
        "breathing_cue": "Respire despacio hacia el vientre; cada vez que suelte el aire, deje que la parte baja de la espalda se relaje contra el suelo.",
        "cautions": "Sujete por detrás del muslo, no encima de la rodilla. Pare si el dolor le baja por la pierna.",
        "illustration_alt": "Dibujo, vista de lado, acostado boca arriba: primero las dos rodillas dobladas con los pies apoyados, luego una rodilla llevada hacia el pecho con las manos.",
    },
    "lying-twist": {
        "name": "Giro de rodillas acostado",
        "summary": "Acostado boca arriba, dejar que las dos rodillas caigan suavemente hacia un lado, para un giro suave de la parte baja de la espalda.",
        "helps": "La rigidez en la parte baja de la espalda y en los costados del tronco.",
        "steps": "1. Acuéstese boca arriba con las rodillas dobladas, los pies apoyados y los brazos abiertos a los lados.\n2. Con las rodillas juntas, déjelas caer despacio hacia la derecha, hasta donde le resulte cómodo.\n3. Mantenga los dos hombros apoyados en el suelo. Mantenga.\n4. Vuelva despacio con las rodillas al centro y luego déjelas caer hacia la izquierda.\n",
        "breathing_cue": "Respire despacio; cada vez que suelte el aire, deje que las rodillas bajen un poco más hacia el suelo, sin empujar.",
        "cautions": "Gire solo hasta donde le resulte cómodo. No lo haga si girar le causa un dolor agudo o un dolor que baja por la pierna.",
        "illustration_alt": "Dibujo, visto desde arriba, acostado boca arriba con los brazos abiertos: primero las piernas juntas, luego las dos rodillas bajadas hacia un lado, con los hombros en el suelo.",
    },
    "sphinx-stretch": {
        "name": "Postura de la esfinge",
        "summary": "Acostado boca abajo y apoyado en los antebrazos, para una suave inclinación hacia atrás de la parte baja de la espalda.",
        "helps": "A algunas personas con problemas de disco, inclinarse suavemente hacia atrás les alivia el dolor de espalda o de pierna.",
        "steps": "1. Acuéstese boca abajo con los codos debajo de los hombros y los antebrazos en el suelo.\n2. Levante despacio el pecho, apoyando el peso en los antebrazos. Mantenga las caderas en el suelo.\n3. Deje que la parte baja de la espalda y el vientre se relajen. Mantenga.\n4. Baje despacio.\n",
        "breathing_cue": "Respire despacio y deje que el vientre se afloje hacia el suelo al soltar el aire.",
        "cautions": "No haga este estiramiento si le duele inclinarse hacia atrás, algo frecuente con la artrosis de la columna o la estenosis espinal. Pare si el dolor baja más por la pierna.",
        "illustration_alt": "Dibujo, vista de lado, acostado boca abajo: primero plano con los antebrazos en el suelo, luego el pecho levantado sobre los antebrazos mientras las caderas siguen abajo.",
    },
    "figure-four-stretch": {
        "name": "Estiramiento en forma de 4",
        "summary": "Acostado boca arriba con un tobillo cruzado sobre la otra rodilla, para estirar la parte profunda de la nalga y la cadera.",
        "helps": "La tensión profunda en la nalga, que puede aumentar el dolor que baja por la parte de atrás de la pierna.",
        "steps": "1. Acuéstese boca arriba con las dos rodillas dobladas y los pies apoyados.\n2. Cruce el tobillo derecho sobre la rodilla izquierda, formando un 4.\n3. Sujete por detrás del muslo izquierdo y acérquelo con suavidad hasta notar un estiramiento en la nalga derecha.\n4. Mantenga, luego baje despacio y cambie de lado.\n",
        "breathing_cue": "Respire despacio; al soltar el aire, deje que la rodilla cruzada se relaje alejándose de usted.",
        "cautions": "Mantenga la cabeza y los hombros en el suelo. No lo haga si tiene una prótesis de cadera, salvo que su cirujano esté de acuerdo.",
        "illustration_alt": "Dibujo, vista de lado, acostado boca arriba: primero un tobillo cruzado sobre la otra rodilla doblada, luego ese muslo llevado hacia el pecho con las manos.",
    },
    "towel-hamstring-stretch": {
        "name": "Estiramiento de la parte de atrás del muslo con toalla",
        "summary": "Acostado boca arriba con una toalla alrededor de un pie, para estirar la parte de atrás del muslo sin forzar la espalda.",
        "helps": "Los músculos tensos de la parte de atrás de los muslos, que pueden tirar de la pelvis y aumentar la carga en la parte baja de la espalda.",
        "steps": "1. Acuéstese boca arriba con las dos rodillas dobladas. Pase una toalla o un cinturón por la planta del pie derecho.\n2. Estire despacio la pierna derecha hacia el techo, sujetando la toalla con las dos manos.\n3. Pare cuando note un estiramiento suave en la parte de atrás del muslo. La rodilla puede quedar un poco doblada.\n4. Mantenga, luego baje despacio y haga el otro lado.\n",
        "breathing_cue": "Suelte el aire despacio y deje que la parte de atrás del muslo se afloje; no tire más fuerte.",
        "cautions": "Si le causa hormigueo o dolor que baja por la pierna, baje la pierna hasta que pare, o no haga el estiramiento.",
        "illustration_alt": "Dibujo, vista de lado, acostado boca arriba con una toalla alrededor de un pie: primero la rodilla doblada, luego la pierna estirada hacia el techo.",
    },
    "kneeling-hip-flexor-stretch": {
        "name": "Estiramiento de la parte delantera de la cadera, de rodillas",
        "summary": "Un estiramiento con una rodilla en el suelo para la parte delantera de la cadera, que se tensa tras muchas horas sentado.",
        "helps": "Los músculos tensos de la parte delantera de la cadera, que inclinan la pelvis hacia delante y pueden aumentar el dolor en la parte baja de la espalda.",
        "steps": "1. Apoye la rodilla derecha en un cojín, con el pie izquierdo apoyado delante de usted.\n2. Póngase derecho y apriete suavemente los músculos del vientre.\n3. Lleve despacio el peso hacia delante hasta notar un estiramiento en la parte delantera de la cadera derecha. Mantenga la espalda derecha.\n4. Mantenga, luego vuelva atrás con suavidad y cambie de lado.\n",
        "breathing_cue": "Respire de forma lenta y regular; póngase un poco más derecho cada vez que tome aire.",
        "cautions": "Apóyese en una silla o en la pared para mantener el equilibrio. Si arrodillarse le duele, no lo haga, o hágalo de pie con un pie sobre un escalón bajo.",
        "illustration_alt": "Dibujo, vista de lado, con una rodilla en el suelo y el otro pie delante: primero derecho, luego las caderas llevadas suavemente hacia delante para estirar la parte delantera de la cadera.",
    },
}

ROUTINES = {
    "neck-and-shoulders": {
        "name": "Cuello y hombros",
        "summary": "Cinco estiramientos suaves para un cuello rígido y hombros tensos, desde el cuello hasta la parte alta de la espalda. Unos diez minutos.",
        "description": "Una rutina corta para los días de escritorio o un cuello rígido por la mañana. Hágala una o dos veces al día, sentado o de pie, bien derecho.",
    },
    "lower-back-and-sciatica": {
        "name": "Parte baja de la espalda y ciática",
        "summary": "Cinco estiramientos suaves para la parte baja de la espalda, las nalgas y las piernas, acostado o de rodillas. Unos quince minutos.",
        "description": "Una rutina tranquila para una parte baja de la espalda dolorida o un dolor que baja por una pierna. Una colchoneta o una alfombra ayuda. Si algún estiramiento le lleva el dolor más abajo por la pierna, sáltelo.",
    },
    "whole-spine": {
        "name": "Toda la columna, del cuello a las caderas",
        "summary": "Siete estiramientos que recorren toda la columna, desde el cuello hasta las caderas. Unos veinte minutos.",
        "description": "Una rutina diaria para mantener en movimiento toda la columna. Empieza sentado y luego pasa al suelo.",
    },
}

SPANISH: dict[str, dict[str, dict[str, str]]] = {
    "condition": CONDITIONS,
    "stretch": STRETCHES,
    "routine": ROUTINES,
}


def spanish_fill(obj, *, save: bool = True) -> list[str]:
    """Set ``obj``'s empty Spanish fields from SPANISH; return the fields set."""
    texts = SPANISH.get(obj._meta.model_name, {}).get(obj.slug, {})
    changed = [f"{name}_es" for name, text in texts.items() if not getattr(obj, f"{name}_es", None)]
    for field in changed:
        setattr(obj, field, texts[field.removesuffix("_es")])
    if changed and not obj.reviewed_on_es:
        obj.reviewed_on_es = SPANISH_REVIEWED_ON
        changed.append("reviewed_on_es")
    if changed and not obj.reviewed_by_es:
        obj.reviewed_by_es = SPANISH_REVIEWER
        changed.append("reviewed_by_es")
    if changed and save and obj.pk:
        obj.save(update_fields=changed)
    return changed
