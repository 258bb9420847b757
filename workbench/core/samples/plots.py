"""Story templates for the toy-stories grammar: an opening, traits, then one plot, then an ending.

Templates are `str.format_map` strings over the slots built in `sample_stories.py`:
- fixed per story: `hero`, `friend` (introduced on first `{friend}`), `stranger`, `elder` ("her dad"),
  `pal` (the friend or the elder), `obj`, `broken`, `creature`, `butterfly`, `place`, `food`,
  `food2`, `fear`;
- drawn afresh at each use: `time`, `home`, `sad`, `scared`, `happy`, `glad`, `trait`, `act`,
  `under`, `behind`, `spot`, `tool`, `sound`, `game`.
Narration is in the past tense, dialogue in the present. Sentence starts are capitalised afterwards,
so a template may begin with `{hero.he}` or `{elder}`. Dialogue tags always come before the quote
('X said, "..."'), never after a quoted "!" or "?", so every sentence can be checked on its own.
"""

from __future__ import annotations

# Stands for the fear's own moment (see FEARS); the story builder swaps it in before filling slots.
SITUATION = "{situation}"

# A beat is (probability of appearing, templates to choose from); a plot is a sequence of beats.
Beat = tuple[float, tuple[str, ...]]

OPENINGS: tuple[str, ...] = (
    "Once upon a time, there was {hero.a} named {hero.name}.",
    "Once there was {hero.a} called {hero.name}.",
    "{hero.name} was {hero.a} who lived in {home}.",
    "There once was {hero.a} named {hero.name}, who lived in {home}.",
    "Long ago, in {home} near {place}, there lived {hero.a} named {hero.name}.",
    "In {home} near {place}, there lived {hero.a} named {hero.name}.",
)

TRAITS: tuple[str, ...] = (
    "{hero.he} loved to {act.base} more than anything.",
    "Every day, {hero.he} liked to {act.base} with {friend}.",
    "{hero.his} best friend was {friend.a} named {friend.name}.",
    "{hero.he} was very {trait}, and everyone liked {hero.him}.",
    "{hero.he} spent most of {hero.his} free time {act.ing}.",
    "{hero.his} favorite thing to do was {act.ing}.",
    "{hero.he} lived with {elder}, who was always {trait}.",
    "On weekends, {hero.he} and {elder} {act.past} together.",
)

CLOSINGS: tuple[str, ...] = (
    "That night, {hero.name} went to sleep with a smile.",
    "It was a day {hero.name} would never forget.",
    "The end.",
    "And {hero.name} was {happy} for a long, long time.",
)

# (what the hero fears, the moment the story makes them face it)
FEARS: tuple[tuple[str, str], ...] = (
    ("the dark", "That night, the lights went out, and the whole house was dark."),
    ("thunder", "That night, a big storm came, and thunder boomed outside the window."),
    ("deep water", "{time}, {pal} wanted to swim in the lake, where the water was deep."),
    ("big dogs", "On the way to {place}, a big dog ran up to {hero.him} and barked."),
    ("the tall slide", "At the playground, all the other children were going down the tall slide."),
    ("the old bridge", "To get to the fair, {hero.he} had to cross the old bridge over the river."),
    ("loud noises", "At the fair, there were fireworks that boomed and cracked in the sky."),
)

PLOTS: dict[str, tuple[Beat, ...]] = {
    "lost": (
        (1.0, ("{time}, {hero.name} took {hero.his} {obj.full} to {place}.",
               "{time}, {hero.name} went to play {place.at}. {hero.he} brought {hero.his} {obj.full} "
               "with {hero.him}.",
               "{time}, {elder} gave {hero.name} {obj.a}. {hero.name} took it everywhere, even to {place}.")),
        (1.0, ("When it was time to go home, {hero.name} could not find {hero.his} {obj}.",
               "After a while, {hero.name} looked around, but the {obj} was gone.",
               "Suddenly, a gust of wind blew the {obj} out of {hero.his} hands.")),
        (1.0, ("{hero.name} felt very {sad}.",
               "{hero.name} was so {sad} that {hero.he} began to cry.",
               '{hero.name} cried, "Oh no! Where is my {obj}?"',
               '{hero.name} said, "I lost my {obj}. What will I do now?"')),
        (0.7, ("{hero.he} looked under the {under} and behind the {behind}, but it was not there.",
               "{hero.he} searched all over {place}, but {hero.he} could not find it.")),
        (1.0, ("Then {friend} came by and asked what was wrong. Together, they looked again, and at "
               "last {friend.name} found the {obj} {spot}.",
               "Just then, {creature.a} ran up to {hero.name}. It had the {obj} in its mouth!",
               "{elder} came to help. {elder.he} pointed at a tree, and there was the {obj}, stuck "
               "in the branches.")),
        (1.0, ('{hero.name} hugged the {obj} and said, "Thank you so much!"',
               "From that day on, {hero.name} always kept {hero.his} {obj} close.",
               "{hero.name} was {glad} to have {hero.his} {obj} back.")),
    ),
    "rescue": (
        (1.0, ("{time}, {hero.name} was walking {place.at} when {hero.he} heard {sound}.",
               "{time}, {hero.name} and {friend} were playing {place.at}. Suddenly, they heard {sound}.")),
        (1.0, ("It was {creature.a}, and it was stuck high up in a tree.",
               "{hero.name} saw {creature.a} stuck in a deep hole.",
               "{creature.a} was caught in a thorny bush and could not get out.")),
        (1.0, ('{hero.name} said, "Poor little thing! We must help it."',
               "{hero.name} felt {scared} for the little {creature}.",
               "The {creature} looked cold and {scared}.")),
        (0.7, ("{hero.name} tried to reach it, but {hero.he} was too small.",
               "{hero.he} stretched out {hero.his} arms, but the {creature} was too far away.")),
        (1.0, ("Then {hero.name} had an idea. {hero.he} ran home and came back with {elder}, who "
               "brought a long ladder. {elder.he} gently lifted the {creature} out.",
               "{friend} found a long stick and held it out. The {creature} climbed onto it, and "
               "they pulled it to safety.",
               "Together, {hero.name} and {pal} made a rope from an old scarf and pulled the {creature} out.")),
        (1.0, ("The {creature} was safe at last, and it snuggled against {hero.name}'s hand.",
               "After that, the {creature} followed {hero.name} everywhere.",
               "{hero.name} felt {happy} that {hero.he} had helped.")),
    ),
    "rain": (
        (1.0, ("{time}, {hero.name} and {pal} planned a picnic {place.at}. They packed {food} and "
               "{food2} in a big basket.",
               "{hero.name} wanted to have a picnic {place.at} with {pal}. {hero.he} packed {food}, "
               "{food2} and a blanket.")),
        (1.0, ("But when they got there, dark clouds filled the sky, and it began to rain.",
               "Just as they sat down, a cold wind blew, and big drops of rain started to fall.",
               "But soon the sky turned gray, and thunder rumbled over {place}.")),
        (1.0, ("{hero.name} was very {sad}. {hero.he} had waited all week for this day.",
               '{hero.name} said, "Now our picnic is ruined."',
               '{hero.name} sighed and said, "Why does it have to rain today?"')),
        (1.0, ('{pal} smiled and said, "We can have our picnic inside." So they ran home, spread a '
               "blanket on the floor and ate {food} while the rain tapped on the windows.",
               "They hid under a big tree and waited. Soon the rain stopped, and a bright rainbow "
               "appeared over {place}.",
               '{pal} said, "Let\'s play in the rain!" They laughed and jumped in puddles until the '
               "sun came out again.")),
        (1.0, ("It was the best picnic ever.",
               "{hero.name} learned that a rainy day can still be a good day.",
               "{hero.name} and {pal} laughed all the way home.")),
    ),
    "broken": (
        (1.0, ("{hero.name} had {broken.a} that {hero.he} loved very much.",
               "{time}, {elder} gave {hero.name} {broken.a} as a present.",
               "{time}, {hero.name} found {broken.a} in the attic.")),
        (1.0, ("One day, {hero.he} dropped it, and it broke into pieces.",
               "But when {hero.he} was playing with it {place.at}, it fell and cracked.",
               "The next day, {friend} played with the {broken} too roughly, and it broke.")),
        (1.0, ("{hero.name} was so {sad} that {hero.he} could not stop crying.",
               '{hero.name} looked at the broken {broken} and said, "It will never be the same."',
               "{hero.name} felt {sad} and sat alone in {hero.his} room.")),
        (1.0, ('{elder} sat down next to {hero.him} and said, "Let\'s fix it together." They used '
               "{tool}, and soon the {broken} was as good as new.",
               "{friend} came over to help. They mended the {broken} with {tool}, and they did not "
               "give up until it worked.",
               "{hero.name} thought hard. Then {hero.he} fixed the {broken} with {tool}, all by "
               "{hero.himself}.")),
        (1.0, ("The {broken} was not perfect, but {hero.name} loved it even more.",
               "{hero.name} learned that broken things can often be fixed with patience.",
               "{hero.name} smiled from ear to ear.")),
    ),
    "fear": (
        (1.0, ("{hero.name} was afraid of {fear}.",
               "There was one thing {hero.name} did not like: {fear}.",
               "{hero.name} was brave about most things, but {hero.he} was scared of {fear}.")),
        (1.0, (SITUATION,)),
        (1.0, ("{hero.name}'s knees shook, and {hero.his} heart beat fast.",
               '{hero.name} whispered, "I am too scared."',
               "{hero.name} wanted to run away and hide.")),
        (1.0, ('{pal} held {hero.his} hand and said, "I am right here with you." Step by step, '
               "{hero.name} felt braver.",
               "{pal} told {hero.him} a funny story, and soon {hero.name} was laughing instead of shaking.",
               "{hero.name} took a deep breath and counted to ten. Then {hero.he} was not so afraid "
               "anymore.")),
        (1.0, ("In the end, {hero.name} was not afraid of {fear} anymore.",
               "{hero.name} felt very proud of {hero.himself}.",
               "{hero.name} learned that being brave means doing something even when you are scared.")),
    ),
    "share": (
        (1.0, ("{time}, {hero.name} and {friend} found {obj.a} {place.at}.",
               "{time}, {friend} came to play at {hero.name}'s house. {hero.name} showed {friend.him} "
               "{hero.his} new {obj}.")),
        (1.0, ('{hero.name} said, "It is mine!" But {friend.name} wanted it too.',
               "Both of them wanted to play with the {obj} at the same time, and they started to argue.",
               "{friend.name} grabbed the {obj}, and {hero.name} pulled it back.")),
        (1.0, ("Soon they were both {sad}, and nobody was having fun.",
               '{hero.name} shouted, "Give it back!"',
               "{hero.name} felt angry, and {friend.name} felt {sad}.")),
        (1.0, ('{elder} heard them and said, "Why don\'t you take turns?" So {hero.name} played with '
               "the {obj} first, and then {friend.name} had a turn.",
               '{hero.name} took a deep breath and said, "Let\'s share it." They played with the {obj} '
               "together, and it was much more fun.",
               "Then they had an idea: they would play {game} together, and the {obj} could wait.")),
        (1.0, ("From that day on, {hero.name} and {friend.name} always shared their toys.",
               "{hero.name} learned that sharing makes playing more fun.",
               "They were best friends again.")),
    ),
    "hungry": (
        (1.0, ("{time}, {hero.name} saw {creature.a} sitting alone {place.at}.",
               "On a cold winter evening, {hero.name} heard {sound} outside the door. There was "
               "{creature.a}, shivering in the snow.")),
        (1.0, ("The {creature} looked thin and hungry.",
               "It had no home and nothing to eat.",
               "The poor {creature} was cold, and it was far from its mother.")),
        (1.0, ("{hero.name} felt sorry for it.",
               '{hero.name} said, "Don\'t be {scared}, little one. I will help you."')),
        (1.0, ("{hero.he} shared {hero.his} {food} with it and wrapped it in a warm blanket.",
               "{hero.name} brought it some {food} and a bowl of water.",
               "{hero.name} and {elder} made a little bed for it out of an old box.")),
        (1.0, ("The {creature} became {hero.name}'s best friend, and they played together every day.",
               "Soon the {creature} was strong again, and it came to visit {hero.name} every morning.",
               "{hero.name} felt warm inside, because helping others made {hero.him} {happy}.")),
    ),
    "lost-way": (
        (1.0, ("{time}, {hero.name} went for a walk {place.at}.",
               "{time}, {hero.name} followed {butterfly.a} deep into the forest.")),
        (1.0, ("After a while, {hero.he} looked around and did not know where {hero.he} was.",
               "Soon it was getting dark, and {hero.name} could not find the way home.")),
        (1.0, ("{hero.name} felt {scared} and alone.",
               '{hero.name} said, "Oh no, I am lost!"')),
        (0.6, ("{hero.he} walked one way, then the other, but everything looked the same.",)),
        (1.0, ('{creature.a} hopped out from behind a bush and said, "I know the way. Follow me!"',
               "Then {hero.he} remembered what {elder} had told {hero.him}: follow the river, and it "
               "will lead you home. So {hero.he} walked along the river until {hero.he} saw {hero.his} house.",
               '{hero.he} heard a voice calling, "{hero.name}! Where are you?" It was {elder}, who had '
               "come to look for {hero.him}.")),
        (1.0, ("{hero.name} was {glad} to be home again, safe and warm.",
               '{hero.name} hugged {elder} and said, "I will never wander off alone again."')),
    ),
    "gift": (
        (1.0, ("{time}, {hero.name} remembered that it was {elder}'s birthday.",
               "{hero.name} wanted to give {elder} something special for {elder.his} birthday.")),
        (1.0, ("But {hero.he} had no money to buy a present.",
               "But the shops were closed, and {hero.he} did not know what to do.")),
        (1.0, ("{hero.name} felt {sad} and sat down to think.",
               '{hero.name} said, "What can I give {elder.him}?"')),
        (1.0, ("Then {hero.he} had an idea. {hero.he} picked flowers in the garden and made a card "
               "with a big heart on it.",
               "So {hero.he} baked a small cake with help from {friend}.",
               "{hero.he} drew a picture of {elder} and {hero.himself} together and wrote a poem under it.")),
        (1.0, ('{elder} smiled and said, "This is the best present I have ever had!"',
               "{elder} hugged {hero.him} tight, and {hero.name} felt {happy}.",
               "{hero.name} learned that the best gifts come from the heart.")),
    ),
    "race": (
        (1.0, ("{time}, everyone {place.at} was getting ready for a big race.",
               "{time}, there was a big race {place.at}, and {hero.name} wanted to win it.")),
        (0.8, ("{hero.name} practiced every day, because {hero.he} wanted to be the fastest.",
               '{hero.name} said, "I am going to win!"')),
        (1.0, ("But halfway through, {hero.name} tripped over a rock and fell. The others ran past, "
               "but {hero.he} got up, brushed off the dirt and kept going.",
               "But during the race, {friend} fell and hurt {friend.his} knee. {hero.name} stopped "
               "running and helped {friend.him} up, and they walked to the finish line together.")),
        (1.0, ("{hero.name} did not win the race, but {hero.he} felt {happy} anyway.",
               "That evening, {elder} told {hero.name} how proud {elder.he} was.",
               "Everyone cheered, and {hero.name} learned that there are more important things "
               "than winning.")),
    ),
    "new-friend": (
        (1.0, ("{time}, {hero.name} moved to a new town, and {hero.he} did not know anyone.",
               "It was {hero.name}'s first day at a new school.")),
        (1.0, ("All the other children were playing {game}, but nobody asked {hero.name} to join.",
               "{hero.he} sat alone on a bench and watched the others play.")),
        (1.0, ("{hero.name} felt shy and lonely.",
               '{hero.name} whispered to {hero.himself}, "I wish I had a friend."')),
        (1.0, ('{stranger.a} named {stranger.name} walked over and said, "Hi! Do you want to play '
               'with us?"',
               "Then {hero.name} saw {stranger.a} named {stranger.name} sitting alone too. "
               '{hero.name} walked over and said, "Hello! My name is {hero.name}."')),
        (1.0, ("Soon they were playing {game} together and laughing.",
               "From that day on, {hero.name} and {stranger.name} were the best of friends.",
               "{hero.name} was not lonely anymore.")),
    ),
}
