/**
 * The car of Gym's CarRacing-v0 (the task of Ha & Schmidhuber 2018, "World Models", section "Car
 * Racing Experiment") without Box2D: one rigid body driven by four wheels, each with Gym's own
 * wheel model.
 *
 * What follows Gym's `car_dynamics.py` exactly: the hull and wheel shapes and densities (so mass
 * and moment of inertia), rear-wheel drive with the engine's power law, gas ramping up by at most
 * 0.1 per step, braking (locking the wheels at brake >= 0.9), the steering motor (at most 3 rad/s
 * towards the command, limited to +-0.4 rad), and each wheel's friction: a force proportional to
 * the slip between the wheel's rolling speed and the ground, clipped to a friction circle that is
 * 40% smaller on grass. That clipping is what makes the car drift at speed and crawl on grass.
 *
 * Where it differs: the wheels are rigidly fixed to the hull instead of hanging on Box2D revolute
 * joints, the integration is one semi-implicit Euler step per frame, and the speed limit comes
 * from Box2D's largest translation per step (2 units), which is what caps Gym's car as well.
 */

/** Gym's scale of the car drawing to world units. */
const SIZE = 0.02;
const ENGINE_POWER = 100000000 * SIZE * SIZE;
const WHEEL_MOMENT_OF_INERTIA = 4000 * SIZE * SIZE;
/** Largest friction force of one wheel on the road; grass allows 60% of it. */
export const FRICTION_LIMIT = 1000000 * SIZE * SIZE;
export const GRASS_FRICTION_FACTOR = 0.6;
/** Gym's slip-to-force coefficient (it calls it a random coefficient against oscillations). */
const SLIP_STIFFNESS = 205000 * SIZE * SIZE;
const WHEEL_RADIUS = 27 * SIZE;
const WHEEL_HALF_WIDTH = 14 * SIZE;
const BRAKE_FORCE = 15;
const STEER_LIMIT = 0.4;
const STEER_SPEED = 3;
/** Box2D's largest translation per step, which bounds the speed at 2 units per 1/50 s. */
const MAX_TRANSLATION = 2;

/** The hull as Gym's four convex polygons, in car coordinates (x right, y forward), world units. */
export const HULL_POLYGONS: readonly (readonly number[])[] = [
  [-60, 130, 60, 130, 60, 110, -60, 110],
  [-15, 120, 15, 120, 20, 20, -20, 20],
  [25, 20, 50, -10, 50, -40, 20, -90, -20, -90, -50, -40, -50, -10, -25, 20],
  [-50, -120, 50, -120, 50, -90, -50, -90],
].map((polygon) => polygon.map((v) => v * SIZE));
/** Wheel centres in car coordinates: front left, front right, rear left, rear right. */
export const WHEEL_POSITIONS: readonly (readonly [number, number])[] = [
  [-55 * SIZE, 80 * SIZE],
  [55 * SIZE, 80 * SIZE],
  [-55 * SIZE, -82 * SIZE],
  [55 * SIZE, -82 * SIZE],
];
export { WHEEL_HALF_WIDTH, WHEEL_RADIUS };
const HULL_DENSITY = 1;
const WHEEL_DENSITY = 0.1;

/** Mass, centre of mass and moment of inertia of hull plus wheels, as Box2D computes them. */
function massProperties(): { mass: number; centreX: number; centreY: number; inertia: number } {
  let mass = 0, momentX = 0, momentY = 0, inertiaAtOrigin = 0;
  const addPolygon = (points: readonly number[], density: number) => {
    // Triangle fan from the first vertex: area, first moments and second moment about the origin.
    const x0 = points[0], y0 = points[1];
    for (let i = 2; i + 3 < points.length; i += 2) {
      const x1 = points[i], y1 = points[i + 1], x2 = points[i + 2], y2 = points[i + 3];
      const area = 0.5 * ((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0));
      const m = density * Math.abs(area);
      const cx = (x0 + x1 + x2) / 3, cy = (y0 + y1 + y2) / 3;
      mass += m;
      momentX += m * cx;
      momentY += m * cy;
      // Second moment of a triangle about the origin: m/6 (sum of squares + pairwise products).
      const xx = x0 * x0 + x1 * x1 + x2 * x2 + x0 * x1 + x1 * x2 + x0 * x2;
      const yy = y0 * y0 + y1 * y1 + y2 * y2 + y0 * y1 + y1 * y2 + y0 * y2;
      inertiaAtOrigin += (m / 6) * (xx + yy);
    }
  };
  for (const polygon of HULL_POLYGONS) addPolygon(polygon, HULL_DENSITY);
  for (const [wx, wy] of WHEEL_POSITIONS) {
    const w = WHEEL_HALF_WIDTH, r = WHEEL_RADIUS;
    addPolygon([wx - w, wy - r, wx + w, wy - r, wx + w, wy + r, wx - w, wy + r], WHEEL_DENSITY);
  }
  const centreX = momentX / mass, centreY = momentY / mass;
  const inertia = inertiaAtOrigin - mass * (centreX * centreX + centreY * centreY);
  return { mass, centreX, centreY, inertia };
}

const MASS = massProperties();
/** Total mass of hull and wheels. */
export const CAR_MASS = MASS.mass;
/** Moment of inertia about the centre of mass. */
export const CAR_INERTIA = MASS.inertia;
/** Centre of mass in car coordinates (the body's position is its origin, as in Box2D). */
export const CAR_CENTRE_OF_MASS: readonly [number, number] = [MASS.centreX, MASS.centreY];

/** The car's state; angles in radians, forward is (-sin angle, cos angle). */
export class Car {
  /** Position of the body origin (Gym's `hull.position`). */
  x = 0;
  y = 0;
  angle = 0;
  velocityX = 0;
  velocityY = 0;
  angularVelocity = 0;
  /** Front wheels' steering angle (positive turns left). */
  steerAngle = 0;
  /** Commanded steering in [-1, 1], positive left (Gym's `car.steer(-action[0])`). */
  steerCommand = 0;
  /** Per-wheel spin (rad/s), throttle and brake. */
  readonly wheelSpin = new Float64Array(4);
  readonly wheelGas = new Float64Array(4);
  brake = 0;
  /** World positions of the wheels after the last step (for tile contact). */
  readonly wheelX = new Float64Array(4);
  readonly wheelY = new Float64Array(4);

  /** Puts the car at rest at a pose. */
  place(x: number, y: number, angle: number): void {
    this.x = x;
    this.y = y;
    this.angle = angle;
    this.velocityX = this.velocityY = this.angularVelocity = 0;
    this.steerAngle = this.steerCommand = this.brake = 0;
    this.wheelSpin.fill(0);
    this.wheelGas.fill(0);
    this.updateWheelPositions();
  }

  /** Gym's controls: steer in [-1, 1] (positive right), gas and brake in [0, 1]. */
  control(steer: number, gas: number, brake: number): void {
    this.steerCommand = -steer;
    for (let i = 2; i < 4; i++) {
      // Gas rises by at most 0.1 a step (an engine that spools up) and drops at once.
      const change = Math.min(gas - this.wheelGas[i], 0.1);
      this.wheelGas[i] += change;
    }
    this.brake = brake;
  }

  /** Speed of the body origin. */
  get speed(): number {
    return Math.hypot(this.velocityX, this.velocityY);
  }

  /**
   * Advances by `dt` seconds. `frictionLimit[i]` is wheel i's largest friction force, set by the
   * ground under it (road or grass).
   */
  step(dt: number, frictionLimit: Float64Array): void {
    const cosA = Math.cos(this.angle), sinA = Math.sin(this.angle);
    const comX = CAR_CENTRE_OF_MASS[0], comY = CAR_CENTRE_OF_MASS[1];
    // Velocity of the centre of mass from the origin's velocity.
    const armComX = cosA * comX - sinA * comY, armComY = sinA * comX + cosA * comY;
    let comVelocityX = this.velocityX - this.angularVelocity * armComY;
    let comVelocityY = this.velocityY + this.angularVelocity * armComX;
    let forceX = 0, forceY = 0, torque = 0;
    for (let i = 0; i < 4; i++) {
      const localX = WHEEL_POSITIONS[i][0] - comX, localY = WHEEL_POSITIONS[i][1] - comY;
      const armX = cosA * localX - sinA * localY, armY = sinA * localX + cosA * localY;
      const wheelVelocityX = comVelocityX - this.angularVelocity * armY;
      const wheelVelocityY = comVelocityY + this.angularVelocity * armX;
      const wheelAngle = i < 2 ? this.angle + this.steerAngle : this.angle;
      const sideX = Math.cos(wheelAngle), sideY = Math.sin(wheelAngle);
      const forwardX = -sideY, forwardY = sideX;
      const forwardSpeed = forwardX * wheelVelocityX + forwardY * wheelVelocityY;
      const sideSpeed = sideX * wheelVelocityX + sideY * wheelVelocityY;

      // Engine power P spins the wheel up: I w dw/dt = P, softened near w = 0.
      let spin = this.wheelSpin[i];
      spin += (dt * ENGINE_POWER * this.wheelGas[i]) / WHEEL_MOMENT_OF_INERTIA /
        (Math.abs(spin) + 5);
      if (this.brake >= 0.9) spin = 0;
      else if (this.brake > 0) {
        const slowdown = Math.min(BRAKE_FORCE * this.brake, Math.abs(spin));
        spin -= Math.sign(spin) * slowdown;
      }
      const rollingSpeed = spin * WHEEL_RADIUS;
      let forwardForce = (rollingSpeed - forwardSpeed) * SLIP_STIFFNESS;
      let sideForce = -sideSpeed * SLIP_STIFFNESS;
      const force = Math.hypot(forwardForce, sideForce);
      if (force > frictionLimit[i]) {
        const scale = frictionLimit[i] / force;
        forwardForce *= scale;
        sideForce *= scale;
      }
      spin -= (dt * forwardForce * WHEEL_RADIUS) / WHEEL_MOMENT_OF_INERTIA;
      this.wheelSpin[i] = spin;

      const fx = sideForce * sideX + forwardForce * forwardX;
      const fy = sideForce * sideY + forwardForce * forwardY;
      forceX += fx;
      forceY += fy;
      torque += armX * fy - armY * fx;
    }

    comVelocityX += (forceX / CAR_MASS) * dt;
    comVelocityY += (forceY / CAR_MASS) * dt;
    this.angularVelocity += (torque / CAR_INERTIA) * dt;
    const travelled = Math.hypot(comVelocityX, comVelocityY) * dt;
    if (travelled > MAX_TRANSLATION) {
      const ratio = MAX_TRANSLATION / travelled;
      comVelocityX *= ratio;
      comVelocityY *= ratio;
    }
    // Move the centre of mass, turn about it, then recover the origin.
    const newComX = this.x + armComX + comVelocityX * dt;
    const newComY = this.y + armComY + comVelocityY * dt;
    this.angle += this.angularVelocity * dt;
    const cosB = Math.cos(this.angle), sinB = Math.sin(this.angle);
    const newArmX = cosB * comX - sinB * comY, newArmY = sinB * comX + cosB * comY;
    this.x = newComX - newArmX;
    this.y = newComY - newArmY;
    this.velocityX = comVelocityX + this.angularVelocity * newArmY;
    this.velocityY = comVelocityY - this.angularVelocity * newArmX;

    // The steering motor turns the front wheels towards the command within the joint limits.
    const steerError = this.steerCommand - this.steerAngle;
    const steerRate = Math.sign(steerError) * Math.min(50 * Math.abs(steerError), STEER_SPEED);
    this.steerAngle = Math.max(
      -STEER_LIMIT,
      Math.min(STEER_LIMIT, this.steerAngle + steerRate * dt),
    );
    this.updateWheelPositions();
  }

  updateWheelPositions(): void {
    const cosA = Math.cos(this.angle), sinA = Math.sin(this.angle);
    for (let i = 0; i < 4; i++) {
      const localX = WHEEL_POSITIONS[i][0], localY = WHEEL_POSITIONS[i][1];
      this.wheelX[i] = this.x + cosA * localX - sinA * localY;
      this.wheelY[i] = this.y + sinA * localX + cosA * localY;
    }
  }
}
